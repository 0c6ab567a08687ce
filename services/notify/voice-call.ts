// Voice calls through Twilio Programmable Voice: POST /2010-04-01/Accounts/{sid}/Calls.json with the TwiML
// to play and where to report the call's progress; 201 with the call sid. [issue 16] [README.md Voice call]
import type { DeliveryResult } from '../../alerts/channels/types.ts';
import { type FetchFn, httpAttempt } from './http-delivery.ts';

export interface VoiceCall {
  to: string;
  twiml: string;
  /** Twilio posts initiated/ringing/answered/completed here (with CallStatus) */
  statusCallback?: string;
}

export interface VoiceCaller {
  call(c: VoiceCall): Promise<DeliveryResult>;
}

export interface VoiceConfig {
  twilioAccountSid?: string;
  twilioAuthToken?: string;
  twilioFrom?: string;
  twilioBaseUrl?: string;
  timeoutMs?: number;
  fetch?: FetchFn;
}

/** The provider name calls are recorded under on the attempt (its status callbacks find them by it). */
export const VOICE_PROVIDER = 'twilio-voice';

/** undefined when Twilio is not configured (a call target then fails with that reason). */
export function createVoiceCaller(cfg: VoiceConfig): VoiceCaller | undefined {
  const { twilioAccountSid: sid, twilioAuthToken: token, twilioFrom: from } = cfg;
  if (!sid || !token || !from) return undefined;
  const auth = Buffer.from(`${sid}:${token}`).toString('base64');
  const root = (cfg.twilioBaseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const url = `${root}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Calls.json`;
  return {
    call: async (c) => {
      const body = new URLSearchParams({ To: c.to, From: from, Twiml: c.twiml, Timeout: '30' });
      if (c.statusCallback) {
        body.set('StatusCallback', c.statusCallback);
        body.set('StatusCallbackMethod', 'POST');
        for (const e of ['initiated', 'ringing', 'answered', 'completed']) body.append('StatusCallbackEvent', e);
      }
      const res = await httpAttempt({
        url,
        timeoutMs: cfg.timeoutMs ?? 10_000,
        fetch: cfg.fetch,
        init: {
          method: 'POST',
          headers: {
            authorization: `Basic ${auth}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            'user-agent': 'Regenwacht',
          },
          body: body.toString(),
        },
        onSuccess: (_res, text) => ({ responseId: sidOf(text) }),
        describeError: (text) => {
          const e = parse(text) as { code?: number; message?: string } | undefined;
          return e?.message ? `Twilio ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ') : undefined;
        },
      });
      return { ...res, provider: VOICE_PROVIDER };
    },
  };
}

function parse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
function sidOf(s: string): string | undefined {
  const v = (parse(s) as Record<string, unknown> | undefined)?.sid;
  return typeof v === 'string' ? v : undefined;
}
