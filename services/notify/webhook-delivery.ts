// One signed webhook POST (Standard Webhooks headers) through httpAttempt. [docs/formats.md Webhook]

import { type DeliveryResult, type WebhookTarget, webhookSecretSchema } from '../../alerts/channels/types.ts';
import { sign } from '../../alerts/channels/webhook.ts';
import { type FetchFn, httpAttempt } from './http-delivery.ts';

export interface DeliverOptions {
  timeoutMs?: number;
  fetch?: FetchFn;
  /** for tests; Unix ms */
  now?: () => number;
}

/**
 * One delivery attempt. msgId is the notification id and must be the same on every retry,
 * so receivers can de-duplicate. [docs/formats.md Webhook] [docs/guarantees.md]
 */
export async function deliverWebhook(
  target: Pick<WebhookTarget, 'url' | 'secret'>,
  msg: { msgId: string; body: string },
  opts: DeliverOptions = {},
): Promise<DeliveryResult> {
  const ts = Math.floor((opts.now ?? Date.now)() / 1000);
  // a broken secret will not heal by retrying; say so without echoing it
  if (!webhookSecretSchema.safeParse(target.secret).success) {
    return { ok: false, retryable: false, error: 'invalid webhook secret (expected whsec_<base64>)', latencyMs: 0 };
  }
  return httpAttempt({
    url: target.url,
    timeoutMs: opts.timeoutMs ?? 10_000,
    fetch: opts.fetch,
    // the status is the reason; the receiver's body never reaches our database or those who read alarms
    describeError: () => '',
    init: {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Regenwacht',
        'webhook-id': msg.msgId,
        'webhook-timestamp': String(ts),
        'webhook-signature': sign(target.secret, msg.msgId, ts, msg.body),
      },
      body: msg.body,
    },
  });
}
