// Channel-facing types and target schemas. [docs/formats.md]
import { z } from 'zod';
import { whenSchema } from '../routing/oncall.ts';
import type { Alarm } from '../types.ts';

export type NotificationEventType =
  | 'alarm.firing'
  | 'alarm.escalated'
  | 'alarm.deescalated'
  | 'alarm.acknowledged'
  | 'alarm.resolved'
  | 'alarm.closed'
  | 'alarm.stale'
  | 'alarm.reminder'
  | 'alarm.escalated_unacknowledged';

export const NOTIFICATION_EVENT_TYPES: readonly NotificationEventType[] = [
  'alarm.firing',
  'alarm.escalated',
  'alarm.deescalated',
  'alarm.acknowledged',
  'alarm.resolved',
  'alarm.closed',
  'alarm.stale',
  'alarm.reminder',
  'alarm.escalated_unacknowledged',
];

export interface NotificationAlarm extends Alarm {
  /** the hazard's words, as in the SMS and the CAP headline: "HOCHWASSER Meldestufe II", "UNWETTER Stufe 3: HEFTIGER STARKREGEN" */
  title?: string;
  deviceName: string;
  location: { lat: number; lon: number } | null;
  message: string;
  url?: string;
  /** alarms on DWD data (radar nowcast, DWD warnings): "Datenbasis: Deutscher Wetterdienst (CC BY 4.0)" */
  attribution?: string;
  /** radar nowcast alarms: when the catchment's depth `thresholdMm` is expected to be reached (the run's base time
   *  + its `forecast_minutes_to_threshold`); absent when the run does not expect it within 120 min */
  expectedAt?: string;
}

/** The `format: regenwacht` webhook body. [docs/formats.md Webhook] */
export interface NotificationPayload {
  type: NotificationEventType;
  timestamp: string;
  alarm: NotificationAlarm;
  /** `alarm.escalated_unacknowledged`: how long nobody acknowledged, e.g. "10m" (the route's escalate.after) */
  unacknowledgedFor?: string;
  /** `alarm.stale`: when the silent device's last reading was taken */
  lastReadingAt?: string;
}

export interface DeliveryResult {
  ok: boolean;
  status?: number;
  retryable: boolean;
  error?: string;
  latencyMs: number;
  retryAfterMs?: number;
  responseId?: string;
  /** SMS: which provider of SMS_PROVIDERS took this attempt */
  provider?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** whsec_ followed by non-empty, canonical base64 (the HMAC key). [docs/formats.md Webhook] */
export const webhookSecretSchema = z.string().refine((s) => s.startsWith('whsec_') && s.length > 6 && BASE64.test(s.slice(6)), {
  message: 'must be "whsec_" followed by base64',
});

export const webhookTargetSchema = z.object({
  type: z.literal('webhook'),
  // fetch refuses URLs with user:password, so reject them here rather than fail every delivery
  url: z.url({ protocol: /^https?$/ }).refine(
    (u) => {
      const p = new URL(u);
      return p.username === '' && p.password === '';
    },
    { message: 'credentials in the URL are not supported; use the signature' },
  ),
  secret: webhookSecretSchema,
  format: z.enum(['regenwacht', 'alertmanager']).default('regenwacht'),
  when: whenSchema.optional(),
});

export const E164 = /^\+[1-9]\d{6,14}$/;

/** How a person is named in the route ("Zugführer Meier"): an acknowledgement from their message records it. */
export const recipientNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .refine((s) => !/[\p{Cc}\u2028\u2029]/u.test(s), 'must be one line of text');

export const smsTargetSchema = z.object({
  type: z.literal('sms'),
  to: z.string().regex(E164, 'must be an E.164 number like +4915112345678'),
  name: recipientNameSchema.optional(),
  when: whenSchema.optional(),
});

/** E-mail (needs SMTP_URL): German plain text and HTML, one thread per alarm. [issue 16] */
export const emailTargetSchema = z.object({
  type: z.literal('email'),
  to: z.email('must be an e-mail address like leitstelle@example.org').max(254),
  name: recipientNameSchema.optional(),
  when: whenSchema.optional(),
});

/** Voice call through Twilio Programmable Voice: the alarm said twice in German, press 1 to acknowledge. [issue 16] */
export const callTargetSchema = z.object({
  type: z.literal('call'),
  to: z.string().regex(E164, 'must be an E.164 number like +4915112345678'),
  name: recipientNameSchema.optional(),
  when: whenSchema.optional(),
});

export const targetSchema = z.discriminatedUnion('type', [webhookTargetSchema, smsTargetSchema, emailTargetSchema, callTargetSchema]);

export type WebhookTarget = z.infer<typeof webhookTargetSchema>;
export type SmsTarget = z.infer<typeof smsTargetSchema>;
export type EmailTarget = z.infer<typeof emailTargetSchema>;
export type CallTarget = z.infer<typeof callTargetSchema>;
export type Target = z.infer<typeof targetSchema>;
export type WebhookFormat = WebhookTarget['format'];
