import { afterEach, describe, expect, it } from 'vitest';
import { createSmsSender, type SmsConfig } from './sms-senders.ts';
import { json, type Received, startServer, type TestServer } from './test-server.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const msg = { to: '+4915112345678', text: 'UNWETTER Stufe 3: 28,8 mm Regen in 1 h an Pegel Gießen-Nord (gauge-01) seit 14:05. Alarm 123', reference: 'ntf_77' };

function recordingLog() {
  const lines: Array<{ obj: object; msg?: string }> = [];
  return { lines, info: (obj: object, m?: string) => lines.push({ obj, msg: m }) };
}

const SECRETS = ['gw-token-s3cr3t', 'tw-auth-s3cr3t', 'seven-key-s3cr3t'];

describe('log provider', () => {
  it('writes the SMS to the log and reports it delivered', async () => {
    const log = recordingLog();
    const r = await createSmsSender({ provider: 'log' }, log).send(msg);
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0].obj).toEqual({ to: msg.to, text: msg.text, reference: msg.reference });
  });
});

describe('generic HTTP gateway', () => {
  // The gateway contract: Bearer token, JSON {to,text,reference}, 2xx = accepted. [docs/formats.md SMS]
  function gateway(status: number) {
    return (req: Received, res: Parameters<typeof json>[0]) => {
      if (req.method !== 'POST' || req.path !== '/sms/send') return json(res, 404, {});
      if (req.headers.authorization !== 'Bearer gw-token-s3cr3t') return json(res, 401, { error: 'bad token' });
      if (req.headers['content-type'] !== 'application/json') return json(res, 415, {});
      const b = JSON.parse(req.body);
      if (Object.keys(b).sort().join() !== 'reference,text,to') return json(res, 400, { error: 'fields' });
      json(res, status, { id: 'gw-1' });
    };
  }
  const cfg = (url: string, token = 'gw-token-s3cr3t'): SmsConfig => ({ provider: 'http', httpUrl: `${url}/sms/send`, httpToken: token });

  it('posts {to,text,reference} with the bearer token; 2xx is delivered', async () => {
    server = await startServer(gateway(202));
    const log = recordingLog();
    const r = await createSmsSender(cfg(server.url), log).send(msg);
    expect(r).toMatchObject({ ok: true, status: 202 });
    expect(JSON.parse(server.requests[0].body)).toEqual(msg);
    expect(JSON.stringify(log.lines)).not.toContain('s3cr3t');
  });

  it('classifies 500 as retryable and a wrong token (401) as final, without the token in the error', async () => {
    server = await startServer(gateway(500));
    expect(await createSmsSender(cfg(server.url), recordingLog()).send(msg)).toMatchObject({ ok: false, retryable: true, status: 500 });
    const bad = await createSmsSender(cfg(server.url, 'wrong-s3cr3t'), recordingLog()).send(msg);
    expect(bad).toMatchObject({ ok: false, retryable: false, status: 401 });
    expect(bad.error).not.toContain('s3cr3t');
  });

  it('refuses to start without URL or token', () => {
    expect(() => createSmsSender({ provider: 'http', httpUrl: 'http://x' }, recordingLog())).toThrow(/httpToken/);
  });
});

describe('Twilio', () => {
  const SID = 'AC0123456789abcdef0123456789abcdef';
  // Mirrors api.twilio.com: Basic SID:token, form-encoded To/From/Body, 201 with the message resource.
  function twilioApi(req: Received, res: Parameters<typeof json>[0]) {
    if (req.method !== 'POST' || req.path !== `/2010-04-01/Accounts/${SID}/Messages.json`)
      return json(res, 404, { code: 20404, message: 'not found', status: 404 });
    const expected = `Basic ${Buffer.from(`${SID}:tw-auth-s3cr3t`).toString('base64')}`;
    if (req.headers.authorization !== expected) return json(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return json(res, 400, { code: 0, message: 'form expected', status: 400 });
    const form = new URLSearchParams(req.body);
    if ([...form.keys()].sort().join() !== 'Body,From,To') return json(res, 400, { code: 21602, message: 'Message body is required.', status: 400 });
    if (form.get('To') === '+15005550001')
      return json(res, 400, { code: 21211, message: "The 'To' number +15005550001 is not a valid phone number.", status: 400 });
    if (form.get('To') === '+15005550009') return json(res, 429, { code: 20429, message: 'Too Many Requests', status: 429 }, { 'retry-after': '3' });
    json(res, 201, { sid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', status: 'queued', to: form.get('To'), from: form.get('From'), body: form.get('Body') });
  }
  const cfg = (url: string): SmsConfig => ({
    provider: 'twilio',
    twilioAccountSid: SID,
    twilioAuthToken: 'tw-auth-s3cr3t',
    twilioFrom: '+4915799912345',
    twilioBaseUrl: url,
  });

  it('creates a message and returns its sid', async () => {
    server = await startServer(twilioApi);
    const r = await createSmsSender(cfg(server.url), recordingLog()).send(msg);
    expect(r).toMatchObject({ ok: true, status: 201, responseId: 'SM1f0e8ae6ade43cb3c0ce4525424e404f' });
    const form = new URLSearchParams(server.requests[0].body);
    expect(Object.fromEntries(form)).toEqual({ To: msg.to, From: '+4915799912345', Body: msg.text });
  });

  it('fails an invalid number for good, with Twilio’s reason, and retries 429 after Retry-After', async () => {
    server = await startServer(twilioApi);
    const sender = createSmsSender(cfg(server.url), recordingLog());
    const bad = await sender.send({ ...msg, to: '+15005550001' });
    expect(bad).toMatchObject({ ok: false, retryable: false, status: 400 });
    expect(bad.error).toContain('21211');
    expect(bad.error).not.toContain('s3cr3t');
    expect(await sender.send({ ...msg, to: '+15005550009' })).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 3000 });
  });
});

describe('seven.io', () => {
  // Mirrors gateway.seven.io: X-Api-Key header, JSON {to,text,from}; HTTP 200 with "success":"100" on success,
  // or another status code in "success" (900 = bad key, 600 = carrier failure).
  function sevenApi(req: Received, res: Parameters<typeof json>[0]) {
    if (req.method !== 'POST' || req.path !== '/api/sms') return json(res, 404, {});
    if (req.headers['x-api-key'] !== 'seven-key-s3cr3t') return json(res, 200, { success: '900', messages: [] });
    if (!String(req.headers['content-type']).startsWith('application/json')) return json(res, 200, { success: '305' });
    const b = JSON.parse(req.body);
    if (Object.keys(b).sort().join() !== 'from,text,to') return json(res, 200, { success: '301' });
    if (b.to === '+4917000000600')
      return json(res, 200, { success: '600', messages: [{ id: null, success: false, error: '600', error_text: 'carrier failed' }] });
    json(res, 200, {
      success: '100',
      total_price: 0.075,
      balance: 12.3,
      debug: 'false',
      sms_type: 'direct',
      messages: [
        {
          id: '77229318251',
          sender: b.from,
          recipient: b.to.slice(1),
          text: b.text,
          encoding: 'gsm',
          parts: 1,
          price: 0.075,
          success: true,
          error: null,
          error_text: null,
        },
      ],
    });
  }
  const cfg = (url: string, key = 'seven-key-s3cr3t'): SmsConfig => ({ provider: 'seven', sevenApiKey: key, sevenFrom: 'Regenwacht', sevenBaseUrl: url });

  it('sends {to,text,from} with X-Api-Key and reads success "100" and the message id', async () => {
    server = await startServer(sevenApi);
    const r = await createSmsSender(cfg(server.url), recordingLog()).send(msg);
    expect(r).toMatchObject({ ok: true, status: 200, responseId: '77229318251' });
    expect(JSON.parse(server.requests[0].body)).toEqual({ to: msg.to, text: msg.text, from: 'Regenwacht' });
  });

  it('treats an HTTP 200 with an error code as failed: 900 final, 600 retryable', async () => {
    server = await startServer(sevenApi);
    const badKey = await createSmsSender(cfg(server.url, 'wrong-s3cr3t'), recordingLog()).send(msg);
    expect(badKey).toMatchObject({ ok: false, retryable: false, status: 200 });
    expect(badKey.error).toContain('900');
    expect(badKey.error).not.toContain('s3cr3t');
    const carrier = await createSmsSender(cfg(server.url), recordingLog()).send({ ...msg, to: '+4917000000600' });
    expect(carrier).toMatchObject({ ok: false, retryable: true });
  });

  it('retries a 503 and a hanging gateway', async () => {
    server = await startServer((_r, res) => json(res, 503, {}, { 'retry-after': '10' }));
    expect(await createSmsSender(cfg(server.url), recordingLog()).send(msg)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 10_000 });
    await server.close();
    server = await startServer(() => {});
    const r = await createSmsSender({ ...cfg(server.url), timeoutMs: 200 }, recordingLog()).send(msg);
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/timeout/);
  });
});

it('never logs provider secrets', async () => {
  server = await startServer((_r, res) => json(res, 200, { success: '100', messages: [{ id: '1' }] }));
  const log = recordingLog();
  await createSmsSender({ provider: 'seven', sevenApiKey: 'seven-key-s3cr3t', sevenBaseUrl: server.url }, log).send(msg);
  await createSmsSender({ provider: 'log', httpToken: 'gw-token-s3cr3t', twilioAuthToken: 'tw-auth-s3cr3t' }, log).send(msg);
  for (const s of SECRETS) expect(JSON.stringify(log.lines)).not.toContain(s);
});
