// SMS providers behind one interface; plain fetch against their REST APIs. [docs/formats.md SMS] [README.md Configuration]

import type { DeliveryResult } from '../../alerts/channels/types.ts';
import { type FetchFn, httpAttempt } from './http-delivery.ts';

export interface SmsMessage {
  to: string;
  text: string;
  /** the notification id, so provider records can be matched to the outbox */
  reference: string;
}

export interface SmsSender {
  send(msg: SmsMessage): Promise<DeliveryResult>;
}

export interface SmsConfig {
  provider: 'log' | 'http' | 'twilio' | 'seven';
  httpUrl?: string;
  httpToken?: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
  twilioFrom?: string;
  twilioBaseUrl?: string;
  sevenApiKey?: string;
  sevenFrom?: string;
  sevenBaseUrl?: string;
  /** Twilio: where it posts the message's status changes (delivery reports) [issue 16] */
  twilioStatusCallback?: string;
  timeoutMs?: number;
  fetch?: FetchFn;
}

export interface SmsLog {
  info: (obj: object, msg?: string) => void;
}

const USER_AGENT = 'Regenwacht';

export function createSmsSender(cfg: SmsConfig, log: SmsLog): SmsSender {
  const base = { timeoutMs: cfg.timeoutMs ?? 10_000, fetch: cfg.fetch };
  switch (cfg.provider) {
    case 'log':
      return {
        async send(msg) {
          log.info({ to: msg.to, text: msg.text, reference: msg.reference }, 'sms (log provider, not sent)');
          return { ok: true, retryable: false, latencyMs: 0 };
        },
      };
    case 'http':
      return httpGateway(need(cfg, 'httpUrl'), need(cfg, 'httpToken'), base);
    case 'twilio':
      return twilio(cfg, base);
    case 'seven':
      return seven(cfg, base);
  }
}

type Base = { timeoutMs: number; fetch?: FetchFn };

// Missing settings are a configuration error at start, not a failed delivery later. [README.md Configuration]
function need<K extends keyof SmsConfig>(cfg: SmsConfig, key: K): NonNullable<SmsConfig[K]> {
  const v = cfg[key];
  if (v === undefined || v === '') throw new Error(`SMS provider ${cfg.provider} needs ${String(key)}`);
  return v as NonNullable<SmsConfig[K]>;
}

/** Generic gateway: POST JSON {to,text,reference} with a bearer token; 2xx = accepted. [docs/formats.md SMS] */
function httpGateway(url: string, token: string, base: Base): SmsSender {
  return {
    send: (msg) =>
      httpAttempt({
        ...base,
        url,
        init: {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': USER_AGENT },
          body: JSON.stringify({ to: msg.to, text: msg.text, reference: msg.reference }),
        },
      }),
  };
}

/** Twilio Programmable Messaging: form-encoded To/From/Body, HTTP Basic SID:token, 201 with the message sid. */
function twilio(cfg: SmsConfig, base: Base): SmsSender {
  const sid = need(cfg, 'twilioAccountSid');
  const auth = Buffer.from(`${sid}:${need(cfg, 'twilioAuthToken')}`).toString('base64');
  const from = need(cfg, 'twilioFrom');
  const root = (cfg.twilioBaseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const url = `${root}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`;
  return {
    send: (msg) =>
      httpAttempt({
        ...base,
        url,
        init: {
          method: 'POST',
          headers: {
            authorization: `Basic ${auth}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            'user-agent': USER_AGENT,
          },
          body: new URLSearchParams({
            To: msg.to,
            From: from,
            Body: msg.text,
            ...(cfg.twilioStatusCallback ? { StatusCallback: cfg.twilioStatusCallback } : {}),
          }).toString(),
        },
        onSuccess: (_res, body) => ({ responseId: jsonField(body, 'sid') }),
        // Twilio errors are {code, message, more_info, status}; the code says what to fix
        describeError: (body) => {
          const e = parseJson(body) as { code?: number; message?: string } | undefined;
          return e?.message ? `Twilio ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ') : undefined;
        },
      }),
  };
}

// seven answers HTTP 200 with a status code in "success": 100 = sent. Codes that may clear up by
// themselves (credit topped up, carrier/unknown failure) are retried; input errors are not.
const SEVEN_RETRYABLE = new Set(['101', '500', '600', '700']);

/** seven.io SMS API: POST {base}/api/sms, X-Api-Key, JSON {to, text, from}. */
function seven(cfg: SmsConfig, base: Base): SmsSender {
  const key = need(cfg, 'sevenApiKey');
  const root = (cfg.sevenBaseUrl ?? 'https://gateway.seven.io').replace(/\/+$/, '');
  return {
    send: (msg) =>
      httpAttempt({
        ...base,
        url: `${root}/api/sms`,
        init: {
          method: 'POST',
          headers: {
            'x-api-key': key,
            'content-type': 'application/json',
            accept: 'application/json',
            'user-agent': USER_AGENT,
          },
          body: JSON.stringify({ to: msg.to, text: msg.text, ...(cfg.sevenFrom ? { from: cfg.sevenFrom } : {}) }),
        },
        onSuccess: (_res, body) => sevenOutcome(body),
      }),
  };
}

function sevenOutcome(body: string): Partial<DeliveryResult> {
  const json = parseJson(body) as { success?: unknown; messages?: Array<{ id?: unknown; error_text?: unknown }> } | undefined;
  const code = String(json?.success ?? body.trim());
  const id = json?.messages?.[0]?.id;
  const responseId = id === undefined || id === null ? undefined : String(id);
  if (code === '100') return { ok: true, responseId };
  // 402 = reload lock: the same SMS went out within 180 s, so a retry after a lost response is already delivered
  if (code === '402') return { ok: true, responseId, error: 'seven 402: duplicate within 180 s, already sent' };
  const detail = json?.messages?.[0]?.error_text;
  return {
    ok: false,
    retryable: SEVEN_RETRYABLE.has(code),
    error: `seven ${code}${typeof detail === 'string' && detail ? `: ${detail}` : ''}`,
  };
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function jsonField(s: string, field: string): string | undefined {
  const v = (parseJson(s) as Record<string, unknown> | undefined)?.[field];
  return typeof v === 'string' ? v : undefined;
}
