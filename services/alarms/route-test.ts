// A test message to one target of a route, sent now and not through the outbox: the operator sees at once
// whether the receiver answers. It says it is a test and carries no alarm, so no receiver mistakes it for one.
// [docs/formats.md Test message]
import crypto from 'node:crypto';
import { mailDomain } from '../../alerts/channels/email.ts';
import type { DeliveryResult, Target } from '../../alerts/channels/types.ts';
import { esc } from '../../alerts/channels/xml.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { createEmailSender } from '../notify/email-sender.ts';
import { createSmsSender } from '../notify/sms-senders.ts';
import { createVoiceCaller } from '../notify/voice-call.ts';
import { deliverWebhook } from '../notify/webhook-delivery.ts';
import { routeEgress } from './console-store.ts';
import type { OrgRoute } from './route-store.ts';
import { WebhookEgress } from './webhook-egress.ts';

export const targetAddress = (t: Target): string => (t.type === 'webhook' ? t.url : t.to);

export async function sendTestMessage(deps: { db: Db; config: Readonly<Config>; now: () => number }, route: OrgRoute, target: Target): Promise<DeliveryResult> {
  const id = `test_${crypto.randomBytes(6).toString('hex')}`;
  const text = `Regenwacht TEST: Testnachricht der Weiterleitung "${route.name}" – kein Alarm.`;
  if (target.type === 'call') {
    const voice = createVoiceCaller(deps.config.sms);
    if (!voice)
      return { ok: false, retryable: false, error: 'voice calls not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM', latencyMs: 0 };
    return voice.call({ to: target.to, twiml: `<?xml version="1.0" encoding="UTF-8"?><Response><Say language="de-DE">${esc(text)}</Say></Response>` });
  }
  if (target.type === 'email') {
    // an e-mail target is tested by e-mail (it used to go to the SMS provider, with the address as number)
    const mail = deps.config.mail;
    if (!mail) return { ok: false, retryable: false, error: 'e-mail channel not configured: set SMTP_URL and MAIL_FROM', latencyMs: 0 };
    const sender = createEmailSender(mail);
    try {
      const html = `<p>${esc(text)}</p>`;
      return await sender.send({ address: target.to, name: target.name }, { subject: text, text, html, messageId: `<${id}@${mailDomain(mail.from)}>` });
    } finally {
      sender.close();
    }
  }
  if (target.type !== 'webhook') return createSmsSender({ ...deps.config.sms }, { info: () => {} }).send({ to: target.to, text, reference: id });
  const egress = new WebhookEgress(deps.config.webhookAllowNets);
  try {
    const scope = await routeEgress(deps.db, route.id);
    const refused = await egress.refuseUrl(target.url, scope);
    if (refused) return { ok: false, retryable: false, error: `webhook target not allowed: ${refused}`, latencyMs: 0 };
    const body = JSON.stringify({
      type: 'regenwacht.test',
      timestamp: new Date(deps.now()).toISOString(),
      route: { id: route.id, name: route.name },
      message: text,
    });
    return await deliverWebhook(target, { msgId: id, body }, { timeoutMs: 10_000, fetch: egress.fetchFor(scope) });
  } finally {
    await egress.close();
  }
}
