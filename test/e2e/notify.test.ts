// Notifications end to end: alarms raised by readings over MQTT, delivered by the outbox notifier to real
// HTTP receivers on 127.0.0.1, with a controllable clock for retries, reminders, escalation, silences and
// the all-clear. [docs/formats.md, docs/guarantees.md]
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gsm7Length, isGsm7 } from '../../alerts/channels/sms-text.ts';
import { type AlarmView, Clock, Harness, HOUR, MIN, pastStart, receiver, sleep, webhook } from '../helpers/alarms.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

/** Standard Webhooks verification written from the spec, independent of alerts/channels/webhook.ts and services/notify/webhook-delivery.ts. */
function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string, toleranceSec = 300): boolean {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sigs !== 'string' || !/^\d+$/.test(ts)) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > toleranceSec) return false; // replay protection
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return sigs.split(' ').some((s) => {
    const [version, b64] = s.split(',');
    const got = Buffer.from(b64 ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}

const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7];
const SEGMENT = 6 * HOUR;
type Rx = Awaited<ReturnType<typeof receiver>>;

describe.each(['pglite', 'pg'] as const)('notifications on %s', (store) => {
  let s: TestSystem;
  let h: Harness;
  let sms: Rx;
  const clock = new Clock(pastStart(20 * SEGMENT));
  let n = 0;
  const open: Rx[] = [];
  const rx = async (script?: Array<number | 'hang'>) => {
    const r = await receiver(script);
    open.push(r);
    return r;
  };

  beforeAll(async () => {
    sms = await receiver([200]);
    s = await startSystem({ store, now: clock.now, env: { SMS_PROVIDER: 'http', SMS_HTTP_URL: `${sms.url}/sms`, SMS_HTTP_TOKEN: 'gw-token-1' } });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await Promise.all([sms, ...open].map((r) => r?.close()));
  });

  /** A fresh device with a level rule (severe at ≥ 100 cm, clears 1 min after dropping below), its own stretch of time. */
  async function gauge(routes: Array<(dev: string) => Record<string, unknown>>) {
    const dev = `n${++n}`;
    clock.set(clock.t + SEGMENT);
    await h.device(dev);
    const ruleId = await h.rule({
      name: `Pegel ${dev}`,
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [{ severity: 'severe', threshold: 100 }],
      clear: { hysteresis: 0, for: '1m' },
      expectedInterval: '7d', // these gauges report once; their silence is not what is tested here
    });
    const routeIds = [];
    for (const r of routes) routeIds.push(await h.route(r(dev)));
    return { dev, ruleId, routeIds, t0: clock.t };
  }
  const only = (dev: string, extra: Record<string, unknown> = {}) => ({ name: `route ${dev}`, match: { minSeverity: 'moderate', deviceIds: [dev] }, ...extra });
  const fire = async (dev: string, level = 120) => {
    await h.send(dev, clock.t, { level_cm: level });
    const [a] = await waitFor(
      async () => {
        const list = await h.alarms({ deviceId: dev });
        return list.length > 0 && list;
      },
      5000,
      'alarm',
    );
    return a;
  };
  /** Back below the threshold: two readings, because a single 100 cm drop is held as a possible spike. */
  const lower = async (dev: string) => {
    await h.send(dev, clock.t + MIN, { level_cm: 80 });
    await h.send(dev, clock.t + MIN, { level_cm: 78 });
    await h.advance(2 * MIN, 30_000);
  };
  const types = (r: Rx) => r.bodies().map((b) => b.type);

  it('a webhook carries a Standard Webhooks signature that verifies independently, and the regenwacht body', async () => {
    const r = await rx();
    const target = webhook(r.url);
    const { dev } = await gauge([(d) => only(d, { targets: [target] })]);
    const a = await fire(dev);
    const [req] = await r.waitRequests(1);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(verifyStandardWebhook(target.secret, req.headers, req.body)).toBe(true);
    expect(verifyStandardWebhook(target.secret, req.headers, req.body.replace('"severe"', '"minor"')), 'a tampered body fails').toBe(false);
    expect(verifyStandardWebhook(`whsec_${crypto.randomBytes(24).toString('base64')}`, req.headers, req.body), 'another secret fails').toBe(false);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      type: 'alarm.firing',
      timestamp: new Date(clock.t).toISOString(),
      alarm: {
        id: a.id,
        deviceId: dev,
        deviceName: `Pegel ${dev}`,
        severity: 'severe',
        state: 'firing',
        value: 120,
        threshold: 100,
        unit: 'cm',
        location: { lat: 50.58, lon: 8.67 },
      },
    });
    expect(body.alarm.message).toContain(dev);
    const view = await h.alarm(a.id);
    expect(req.headers['webhook-id']).toBe(view.notifications[0].id);
    expect(view.notifications[0]).toMatchObject({ state: 'delivered', type: 'alarm.firing', to: r.url });
  });

  it('500, 500, 200: three deliveries with the same webhook-id, every attempt visible on the alarm', async () => {
    const r = await rx([500, 500, 200]);
    const { dev } = await gauge([(d) => only(d, { targets: [webhook(r.url)] })]);
    const a = await fire(dev);
    await r.waitRequests(1);
    // backoff starts at ~1 s (±20 %), then ~2 s: move the clock, the notifier picks the retry up
    for (const k of [2, 3]) {
      clock.advance(5000);
      s.alerting!.notifier!.kick();
      await r.waitRequests(k);
    }
    await s.alerting!.settle();
    expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(1);
    const view = await h.alarm(a.id);
    expect(r.requests[0].headers['webhook-id']).toBe(view.notifications[0].id);
    expect(view.notifications[0].state).toBe('delivered');
    expect(view.notifications[0].attempts.map((x) => [x.ok, x.status])).toEqual([
      [false, 500],
      [false, 500],
      [true, 200],
    ]);
  });

  it('a 400 is not retried and shows as failed with its attempt', async () => {
    const r = await rx([400]);
    const { dev } = await gauge([(d) => only(d, { targets: [webhook(r.url)] })]);
    const a = await fire(dev);
    await r.waitRequests(1);
    await s.alerting!.settle();
    clock.advance(HOUR);
    await s.alerting!.settle();
    await sleep(200);
    expect(r.requests).toHaveLength(1);
    const [no] = (await h.alarm(a.id)).notifications;
    expect(no.state).toBe('failed');
    expect(no.attempts).toEqual([expect.objectContaining({ ok: false, status: 400 })]);
  });

  it("a hanging receiver on route A does not delay route B's delivery", async () => {
    const hang = await rx(['hang']);
    const fast = await rx([200]);
    const { dev } = await gauge([
      (d) => ({ ...only(d), name: 'A', targets: [webhook(hang.url)] }),
      (d) => ({ ...only(d), name: 'B', targets: [webhook(fast.url)] }),
    ]);
    const t = Date.now();
    await h.send(dev, clock.t, { level_cm: 130 }, { settle: false }); // settling would wait for the hung one
    await fast.waitRequests(1, 3000);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(hang.requests).toHaveLength(1); // A's request is in flight, unanswered
    const [a] = await h.alarms({ deviceId: dev });
    expect(a.notifications.map((x) => x.state).sort()).toEqual(['delivered', 'sending']);
    // its 2-minute claim expires while the attempt still hangs: this process must not send it a second time
    clock.advance(5 * MIN);
    s.alerting!.notifier!.kick();
    await sleep(300);
    expect(hang.requests).toHaveLength(1);
    await hang.close(); // A's attempt now fails and is retried later; the connection must not outlive the test
  }, 20_000);

  it('format alertmanager sends the Alertmanager webhook v4 body, and "resolved" for the all-clear', async () => {
    const r = await rx();
    const { dev, ruleId } = await gauge([(d) => only(d, { targets: [webhook(r.url, { format: 'alertmanager' })] })]);
    const a = await fire(dev);
    await lower(dev);
    const [firing, resolved] = (await r.waitRequests(2)).map((q) => JSON.parse(q.body));
    const labels = { alertname: `Pegel ${dev}`, severity: 'severe', deviceId: dev, ruleId, metric: 'level_cm', alarmId: a.id };
    expect(firing).toEqual({
      version: '4',
      groupKey: expect.any(String),
      truncatedAlerts: 0,
      status: 'firing',
      receiver: expect.any(String),
      groupLabels: expect.any(Object),
      commonLabels: labels,
      commonAnnotations: { summary: expect.any(String), description: expect.any(String) },
      externalURL: expect.stringMatching(/^https?:\/\//),
      alerts: [
        {
          status: 'firing',
          labels,
          annotations: { summary: expect.any(String), description: expect.any(String) },
          startsAt: a.startedAt,
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: expect.stringContaining(`/api/v1/alarms/${a.id}`),
          fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      ],
    });
    expect(resolved.status).toBe('resolved');
    expect(resolved.groupKey).toBe(firing.groupKey);
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', fingerprint: firing.alerts[0].fingerprint, endsAt: (await h.alarm(a.id)).resolvedAt });
  });

  it('SMS via the generic HTTP gateway: bearer token and exactly {to, text, reference}', async () => {
    const before = sms.requests.length;
    const { dev } = await gauge([(d) => only(d, { targets: [{ type: 'sms', to: '+4915112345678' }] })]);
    const a = await fire(dev, 123.4);
    const req = (await sms.waitRequests(before + 1))[before];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/sms');
    expect(req.headers.authorization).toBe('Bearer gw-token-1');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(req.body);
    const [no] = (await h.alarm(a.id)).notifications;
    expect(Object.keys(body).sort()).toEqual(['reference', 'text', 'to']);
    expect(body.to).toBe('+4915112345678');
    expect(body.reference).toBe(no.id);
    expect(no).toMatchObject({ channel: 'sms', state: 'delivered', to: '+4915112345678' });
    const hhmm = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(clock.t);
    expect(body.text).toMatch(
      new RegExp(
        `^HOCHWASSER Meldestufe II: .*123,4 cm.* an Pegel ${dev} \\(${dev}\\) seit ${hhmm}\\. Alarm ${a.id} Quittieren: ${s.httpUrl}/q/[A-Za-z0-9_-]{16}$`,
      ),
    );
    expect(isGsm7(body.text)).toBe(true);
    expect(gsm7Length(body.text)).toBeLessThanOrEqual(160);
  });

  it('escalation: escalate.targets hear nothing before escalate.after, once after it; not when acknowledged in time', async () => {
    const first = await rx();
    const esc = await rx();
    const esc2 = await rx();
    const { dev } = await gauge([(d) => only(d, { targets: [webhook(first.url)], escalate: { after: '10m', targets: [webhook(esc.url)] } })]);
    const { dev: dev2 } = await gauge([(d) => only(d, { targets: [webhook(first.url)], escalate: { after: '10m', targets: [webhook(esc2.url)] } })]);
    await fire(dev);
    const b = await fire(dev2);
    await h.advance(5 * MIN, MIN);
    await s.ok('POST', `/api/v1/alarms/${b.id}/ack`, { comment: 'Feuerwehr ist vor Ort' });
    await h.advance(4 * MIN + 59_000, MIN);
    expect(esc.requests, 'nothing before 10m').toHaveLength(0);
    await h.advance(2 * MIN, MIN);
    const [e] = await esc.waitRequests(1);
    const body = JSON.parse(e.body);
    expect(body.alarm.deviceId).toBe(dev);
    expect(body.alarm.message).toMatch(/^ESKALATION/);
    await h.advance(30 * MIN, 5 * MIN);
    expect(esc.requests, 'escalates once').toHaveLength(1);
    expect(esc2.requests, 'acknowledged in time: no escalation').toHaveLength(0);
  });

  it('reminders repeat every repeatEvery while firing and stop after POST /ack', async () => {
    const r = await rx();
    const { dev } = await gauge([(d) => only(d, { targets: [webhook(r.url)], repeatEvery: '30m' })]);
    const a = await fire(dev);
    await h.advance(29 * MIN, MIN);
    expect(types(r)).toEqual(['alarm.firing']);
    await h.advance(2 * MIN, MIN);
    expect(types(r)).toEqual(['alarm.firing', 'alarm.reminder']);
    await h.advance(30 * MIN, MIN);
    expect(types(r)).toEqual(['alarm.firing', 'alarm.reminder', 'alarm.reminder']);
    const acked = await s.ok('POST', `/api/v1/alarms/${a.id}/ack`, {});
    expect(acked.state).toBe('acknowledged');
    await h.advance(2 * HOUR, 5 * MIN);
    expect(types(r)).toEqual(['alarm.firing', 'alarm.reminder', 'alarm.reminder', 'alarm.acknowledged']);
  });

  it('a silence holds notifications (alarm still recorded); at its end the open alarm is delivered, a resolved one is not', async () => {
    const r1 = await rx();
    const r2 = await rx();
    const { dev } = await gauge([(d) => only(d, { targets: [webhook(r1.url)] })]);
    const { dev: dev2 } = await gauge([(d) => only(d, { targets: [webhook(r2.url)] })]);
    await s.ok('POST', '/api/v1/silences', {
      match: { deviceIds: [dev, dev2] },
      startsAt: new Date(clock.t).toISOString(),
      endsAt: new Date(clock.t + 30 * MIN).toISOString(),
      comment: 'Wartung',
    });
    const a = await fire(dev);
    await fire(dev2);
    await lower(dev2);
    expect((await h.alarms({ deviceId: dev2 }))[0].state).toBe('resolved');
    expect((await h.alarm(a.id)).notifications.map((x) => x.state)).toEqual(['held']);
    await h.advance(20 * MIN, 5 * MIN); // still inside the silence
    await sleep(200);
    expect(r1.requests).toHaveLength(0);
    await h.advance(10 * MIN, 5 * MIN); // past its end
    await r1.waitRequests(1);
    expect(JSON.parse(r1.requests[0].body)).toMatchObject({ type: 'alarm.firing', alarm: { id: a.id, state: 'firing' } });
    await sleep(300);
    expect(r2.requests, 'resolved during the silence: nothing to deliver').toHaveLength(0);
  });

  it('a silence also holds reminders and escalations; after it ends they resume', async () => {
    const r = await rx();
    const esc = await rx();
    const { dev } = await gauge([(d) => only(d, { targets: [webhook(r.url)], repeatEvery: '30m', escalate: { after: '10m', targets: [webhook(esc.url)] } })]);
    await s.ok('POST', '/api/v1/silences', {
      match: { deviceIds: [dev] },
      startsAt: new Date(clock.t).toISOString(),
      endsAt: new Date(clock.t + 2 * HOUR).toISOString(),
      comment: 'Wartung am Pegel',
    });
    await fire(dev);
    await h.advance(2 * HOUR - MIN, 5 * MIN);
    await sleep(200);
    expect(r.requests, 'nothing reaches the route during the silence').toHaveLength(0);
    expect(esc.requests, 'no escalation during the silence').toHaveLength(0);
    await h.advance(2 * MIN, MIN);
    await r.waitRequests(1);
    expect(types(r), 'the current state, no burst of overdue reminders').toEqual(['alarm.firing']);
    expect(esc.requests, 'escalation counts from when the route was actually told').toHaveLength(0);
    await h.advance(10 * MIN, MIN);
    await esc.waitRequests(1);
    await h.advance(21 * MIN, MIN);
    expect(types(r)).toEqual(['alarm.firing', 'alarm.reminder']);
  });

  // With the DWD preset the 6 h level (moderate ≥ 20 mm) holds the alarm until the storm leaves the 6 h window.
  it('all-clear: alarm.resolved arrives once the storm has left every window and clear.for has passed', async () => {
    const r = await rx();
    const dev = `n${++n}`;
    clock.set(clock.t + SEGMENT);
    const t0 = clock.t;
    await h.device(dev);
    await h.rule({ preset: 'dwd-starkregen', scope: { deviceIds: [dev] } });
    await h.route({ ...only(dev), targets: [webhook(r.url)], notifyOn: ['firing', 'resolved'] });
    for (const [i, v] of S1.entries()) await h.send(dev, t0 + (i + 1) * 5 * MIN, { rain_mm: v });
    // the gauge keeps reporting 0 mm (a silent gauge would hold the alarm as stale, never clear it)
    const dry = async (until: number) => {
      while (clock.t + 5 * MIN <= until) {
        await h.send(dev, clock.t + 5 * MIN, { rain_mm: 0 });
        await h.s.alerting!.tick();
        await h.s.alerting!.settle();
      }
    };
    // the 1 h sum is < 15 from t0 + 80 min, but the 6 h sum stays ≥ 20 until the 13.6 mm block leaves at t0 + 6 h 20 min
    await dry(t0 + 6 * HOUR + 15 * MIN);
    expect(types(r)).toEqual(['alarm.firing']);
    await dry(t0 + 6 * HOUR + 50 * MIN);
    expect(types(r)).toEqual(['alarm.firing', 'alarm.resolved']);
    const resolved = r.bodies()[1];
    expect(Date.parse(resolved.alarm.resolvedAt)).toBeGreaterThanOrEqual(t0 + 6 * HOUR + 35 * MIN); // + clear.for 15m
    const [a]: AlarmView[] = await h.alarms({ deviceId: dev });
    expect(a.state).toBe('resolved');
  });
});
