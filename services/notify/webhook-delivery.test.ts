import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { samplePayload } from '../../alerts/channels/test-fixtures.ts';
import { targetSchema } from '../../alerts/channels/types.ts';
import { buildWebhookBody, sign } from '../../alerts/channels/webhook.ts';
import { json, type Received, startServer, type TestServer } from './test-server.ts';
import { deliverWebhook } from './webhook-delivery.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * Receiver-side check written from the Standard Webhooks spec, independent of sign():
 * key = base64 after "whsec_", HMAC-SHA256 over "id.timestamp.body", any of the space-separated
 * "v1,<b64>" entries may match, timestamp within 5 minutes.
 */
function verifyStandardWebhook(secret: string, req: Received, nowSec = Date.now() / 1000): boolean {
  const id = req.headers['webhook-id'];
  const ts = req.headers['webhook-timestamp'];
  const sigs = req.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sigs !== 'string') return false;
  if (!/^\d+$/.test(ts) || Math.abs(nowSec - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${req.body}`).digest();
  return sigs.split(' ').some((entry) => {
    const [version, b64] = entry.split(',');
    const got = Buffer.from(b64 ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const target = (url: string) => ({ url, secret: SECRET });

describe('sign', () => {
  it('reproduces the Standard Webhooks specification test vector', () => {
    expect(sign(SECRET, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('needs no standardwebhooks package (node:crypto per the spec)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect({ ...pkg.dependencies, ...pkg.devDependencies }).not.toHaveProperty('standardwebhooks');
    for (const dir of [new URL('.', import.meta.url), new URL('../../alerts/channels/', import.meta.url)]) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
        expect(readFileSync(new URL(f, dir), 'utf8'), f).not.toMatch(/from ['"]standardwebhooks['"]/);
      }
    }
  });
});

describe('deliverWebhook against a real receiver', () => {
  it('sends a body the receiver can verify with its own Standard Webhooks check', async () => {
    server = await startServer((_r, res) => json(res, 204, {}));
    const body = JSON.stringify(buildWebhookBody(samplePayload(), 'regenwacht'));
    const r = await deliverWebhook(target(server.url), { msgId: 'ntf_42', body });
    expect(r).toMatchObject({ ok: true, status: 204, retryable: false });
    const req = server.requests[0];
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^Regenwacht/);
    expect(req.headers['webhook-id']).toBe('ntf_42');
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(req.body).toBe(body);
    expect(verifyStandardWebhook(SECRET, req)).toBe(true);
    // a tampered body or another secret must not verify, or the check above proves nothing
    expect(verifyStandardWebhook(SECRET, { ...req, body: `${body} ` })).toBe(false);
    expect(verifyStandardWebhook('whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=', req)).toBe(false);
    expect(JSON.parse(req.body)).toMatchObject({ type: 'alarm.firing', alarm: { id: '123', deviceName: 'Pegel Gießen-Nord' } });
  });

  it('classifies 500, 500, 200 as retry, retry, delivered with the same webhook-id each time', async () => {
    const statuses = [500, 500, 200];
    server = await startServer((_r, res) => json(res, statuses.shift() ?? 200, { ok: true }));
    const msg = { msgId: 'ntf_retry', body: '{"x":1}' };
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await deliverWebhook(target(server.url), msg));
    expect(results.map((r) => [r.ok, r.retryable, r.status])).toEqual([
      [false, true, 500],
      [false, true, 500],
      [true, false, 200],
    ]);
    expect(new Set(server.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set(['ntf_retry']));
    for (const q of server.requests) expect(verifyStandardWebhook(SECRET, q)).toBe(true);
  });

  it.each([400, 401, 404, 410, 422])('fails %i without retry, with the status in the error and no secret', async (status) => {
    server = await startServer((_r, res) => json(res, status, { message: 'nope' }));
    const r = await deliverWebhook(target(server.url), { msgId: 'm', body: '{}' });
    expect(r).toMatchObject({ ok: false, retryable: false, status });
    expect(r.error).toContain(String(status));
    expect(JSON.stringify(r)).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  });

  it.each([408, 502, 503, 504])('retries %i', async (status) => {
    server = await startServer((_r, res) => json(res, status, {}));
    expect(await deliverWebhook(target(server.url), { msgId: 'm', body: '{}' })).toMatchObject({ ok: false, retryable: true, status });
  });

  it('honours Retry-After in seconds on 429 and as an HTTP date on 503', async () => {
    const replies: Array<[number, string]> = [
      [429, '7'],
      [503, new Date(Date.now() + 30_000).toUTCString()],
    ];
    server = await startServer((_r, res) => {
      const [status, after] = replies.shift() ?? [200, '0'];
      json(res, status, {}, { 'retry-after': after });
    });
    const a = await deliverWebhook(target(server.url), { msgId: 'm', body: '{}' });
    expect(a).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 7000 });
    const b = await deliverWebhook(target(server.url), { msgId: 'm', body: '{}' });
    expect(b).toMatchObject({ ok: false, retryable: true, status: 503 });
    expect(b.retryAfterMs).toBeGreaterThan(25_000);
    expect(b.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('gives up on a receiver that never answers, within the timeout, as retryable', async () => {
    server = await startServer(() => {}); // reads the request, never responds
    const t0 = Date.now();
    const r = await deliverWebhook(target(server.url), { msgId: 'm', body: '{}' }, { timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/timeout/);
    expect(r.latencyMs).toBeGreaterThanOrEqual(250);
  });

  it('also times out a receiver that sends headers and then stalls the body', async () => {
    server = await startServer((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const r = await deliverWebhook(target(server.url), { msgId: 'm', body: '{}' }, { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, retryable: true });
  });

  it('fails a malformed secret for good without sending or echoing it', async () => {
    server = await startServer((_r, res) => json(res, 200, {}));
    const r = await deliverWebhook({ url: server.url, secret: 'not-a-whsec-s3cr3t' }, { msgId: 'm', body: '{}' });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).not.toContain('s3cr3t');
    expect(server.requests).toHaveLength(0);
  });

  it('treats a refused connection as a retryable network error', async () => {
    const s = await startServer(() => {});
    const url = s.url;
    await s.close();
    const r = await deliverWebhook(target(url), { msgId: 'm', body: '{}' }, { timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/network error/);
  });
});

describe('alertmanager format', () => {
  it('is the Alertmanager webhook v4 body, one alert per alarm, firing then resolved', async () => {
    server = await startServer((_r, res) => json(res, 200, {}));
    const firing = buildWebhookBody(samplePayload('alarm.firing'), 'alertmanager');
    await deliverWebhook(target(server.url), { msgId: 'm1', body: JSON.stringify(firing) });
    const got = JSON.parse(server.requests[0].body);
    expect(Object.keys(got).sort()).toEqual(
      ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version'].sort(),
    );
    expect(got).toMatchObject({ version: '4', truncatedAlerts: 0, status: 'firing', externalURL: 'https://regenwacht.example.de' });
    expect(typeof got.groupKey).toBe('string');
    expect(got.alerts).toHaveLength(1);
    const alert = got.alerts[0];
    expect(alert).toMatchObject({
      status: 'firing',
      labels: { alertname: 'Starkregen Gießen-Nord', severity: 'severe', deviceId: 'gauge-01', ruleId: 'rule-7', metric: 'rain_mm' },
      startsAt: '2026-07-14T12:05:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'https://regenwacht.example.de/alarms/123',
    });
    expect(alert.annotations.summary).toBeTruthy();
    expect(alert.annotations.description).toContain('gauge-01');
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(got.commonLabels).toEqual(alert.labels);
    for (const [k, v] of Object.entries(got.groupLabels)) expect(alert.labels[k]).toBe(v);

    const resolved = buildWebhookBody(
      samplePayload('alarm.resolved', { state: 'resolved', resolvedAt: '2026-07-14T13:20:00.000Z', severity: 'extreme' }),
      'alertmanager',
    ) as typeof got;
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2026-07-14T13:20:00.000Z' });
    // the same alarm keeps its group and fingerprint across severity changes, so receivers update one incident
    expect(resolved.groupKey).toBe(got.groupKey);
    expect(resolved.alerts[0].fingerprint).toBe(alert.fingerprint);
  });

  it('sends the regenwacht payload unchanged in the default format', () => {
    const p = samplePayload('alarm.escalated');
    expect(buildWebhookBody(p, 'regenwacht')).toEqual(p);
  });
});

describe('targetSchema', () => {
  const ok = { type: 'webhook', url: 'https://example.org/hook', secret: SECRET };
  it.each([
    [ok, true],
    [{ ...ok, url: 'http://127.0.0.1:9000/x', format: 'alertmanager' }, true],
    [{ ...ok, url: 'ftp://example.org/x' }, false],
    [{ ...ok, url: 'https://user:pw@example.org/x' }, false],
    [{ ...ok, secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, false],
    [{ ...ok, secret: 'whsec_' }, false],
    [{ ...ok, secret: 'whsec_not base64!' }, false],
    [{ ...ok, format: 'slack' }, false],
    [{ type: 'sms', to: '+4915112345678' }, true],
    [{ type: 'sms', to: '015112345678' }, false],
    [{ type: 'sms', to: '+0151123456' }, false],
    [{ type: 'sms', to: '+49123' }, false],
    [{ type: 'email', to: 'a@b.de' }, true],
    [{ type: 'email', to: 'leitstelle' }, false],
    [{ type: 'pager', to: 'a@b.de' }, false],
  ])('%j → %s', (input, valid) => {
    expect(targetSchema.safeParse(input).success).toBe(valid);
  });

  it('defaults the webhook format to regenwacht', () => {
    expect(targetSchema.parse(ok)).toMatchObject({ format: 'regenwacht' });
  });
});
