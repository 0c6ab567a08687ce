// Local stand-ins for the SMS and voice providers, speaking their REST shapes on 127.0.0.1: seven.io
// (POST /api/sms, X-Api-Key, JSON answer with success code "100" and message ids) and Twilio (POST
// /2010-04-01/Accounts/{sid}/Messages.json and Calls.json, HTTP Basic, form-encoded, 201 with a sid).
// Each records what it was asked to send; the tests play the provider's callbacks from here.
import crypto from 'node:crypto';
import { json, type Received, startServer, type TestServer } from '../../services/notify/test-server.ts';
import { waitFor } from './system.ts';

export interface SentSms {
  provider: 'seven' | 'twilio';
  id: string;
  to: string;
  text: string;
  /** Twilio: the StatusCallback URL given with the message */
  statusCallback?: string;
}

export interface FakeProvider extends TestServer {
  sms: SentSms[];
  /** what the next sends answer: 'ok', or an HTTP status to fail with */
  script: Array<'ok' | number>;
  waitSms(n: number, ms?: number): Promise<SentSms[]>;
}

function withScript(srv: TestServer, sms: SentSms[], script: Array<'ok' | number>): FakeProvider {
  return Object.assign(srv, {
    sms,
    script,
    waitSms: (n: number, ms = 8000) => waitFor(() => sms.length >= n && sms, ms, `${n} SMS at ${srv.url}`),
  });
}

export const SEVEN_KEY = 'seven-test-key';

export async function fakeSeven(): Promise<FakeProvider> {
  const sms: SentSms[] = [];
  const script: Array<'ok' | number> = [];
  let n = 7700;
  const srv = await startServer((req: Received, res) => {
    if (req.method !== 'POST' || req.path !== '/api/sms') return json(res, 404, { error: 'not found' });
    if (req.headers['x-api-key'] !== SEVEN_KEY) return json(res, 200, { success: '900' }); // seven: 900 = auth failed
    const step = script.shift() ?? 'ok';
    if (step !== 'ok') return json(res, step, { success: '500' });
    const b = JSON.parse(req.body) as { to: string; text: string; from?: string };
    const id = String(++n);
    sms.push({ provider: 'seven', id, to: b.to, text: b.text });
    json(res, 200, {
      success: '100',
      total_price: 0.075,
      balance: 12.5,
      debug: 'false',
      sms_type: 'direct',
      messages: [
        {
          id,
          sender: b.from ?? 'Regenwacht',
          recipient: b.to.replace('+', ''),
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
  });
  return withScript(srv, sms, script);
}

export const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
export const TWILIO_TOKEN = 'twilio-test-auth-token';

export async function fakeTwilio(): Promise<FakeProvider & { calls: Array<Record<string, string>>; callScript: Array<'ok' | number> }> {
  const sms: SentSms[] = [];
  const calls: Array<Record<string, string>> = [];
  /** what the next Calls.json requests answer: 'ok', or an HTTP status with Twilio's error body */
  const callScript: Array<'ok' | number> = [];
  const script: Array<'ok' | number> = [];
  const auth = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;
  const srv = await startServer((req: Received, res) => {
    const base = `/2010-04-01/Accounts/${TWILIO_SID}`;
    if (req.headers.authorization !== auth) return json(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
    const f = Object.fromEntries(new URLSearchParams(req.body));
    if (req.method === 'POST' && req.path === `${base}/Messages.json`) {
      const step = script.shift() ?? 'ok';
      if (step !== 'ok') return json(res, step, { code: 20500, message: 'Internal Server Error', status: step });
      const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
      sms.push({ provider: 'twilio', id: sid, to: f.To, text: f.Body, statusCallback: f.StatusCallback });
      return json(res, 201, { sid, account_sid: TWILIO_SID, to: f.To, from: f.From, body: f.Body, status: 'queued', num_segments: '1', error_code: null });
    }
    if (req.method === 'POST' && req.path === `${base}/Calls.json`) {
      const step = callScript.shift() ?? 'ok';
      if (step !== 'ok')
        return json(res, step, {
          code: 21211,
          message: "The 'To' number is not a valid phone number.",
          more_info: 'https://www.twilio.com/docs/errors/21211',
          status: step,
        });
      const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
      calls.push({ ...f, Sid: sid });
      return json(res, 201, { sid, account_sid: TWILIO_SID, to: f.To, from: f.From, status: 'queued' });
    }
    json(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
  });
  return Object.assign(withScript(srv, sms, script), { calls, callScript });
}

/** X-Twilio-Signature as Twilio computes it: HMAC-SHA1 over the URL and the sorted form fields, base64. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return crypto.createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** seven's webhook signature: HMAC-SHA256 (hex) over "timestamp\nnonce\nMETHOD\nurl\nmd5(body)". */
export function sevenSignatureHeaders(secret: string, url: string, body: string, at = Math.floor(Date.now() / 1000)): Record<string, string> {
  const nonce = crypto.randomBytes(16).toString('hex');
  const md5 = crypto.createHash('md5').update(body).digest('hex');
  const sig = crypto.createHmac('sha256', secret).update([at, nonce, 'POST', url, md5].join('\n')).digest('hex');
  return { 'x-timestamp': String(at), 'x-nonce': nonce, 'x-signature': sig };
}

/** Posts a callback form the way Twilio does, signed for the URL it posts to. */
export async function postTwilio(url: string, params: Record<string, string>, authToken = TWILIO_TOKEN) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(authToken, url, params),
      'user-agent': 'TwilioProxy/1.1',
    },
    body: new URLSearchParams(params).toString(),
  });
}

/** Posts a seven webhook (JSON), signed with the signing secret. */
export async function postSeven(url: string, payload: unknown, secret: string) {
  const body = JSON.stringify(payload);
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...sevenSignatureHeaders(secret, url, body) }, body });
}
