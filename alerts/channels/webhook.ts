// Webhook channel: Standard Webhooks signing and the body formats; services/notify/webhook-delivery.ts sends it. [docs/formats.md Webhook]
import { createHash, createHmac } from 'node:crypto';
import type { NotificationPayload, WebhookFormat } from './types.ts';

/** "v1,<base64 HMAC-SHA256 over `${id}.${ts}.${body}`>", keyed with the base64-decoded part after whsec_. */
export function sign(secret: string, msgId: string, timestampSec: number, body: string): string {
  if (!secret.startsWith('whsec_')) throw new Error('webhook secret must start with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampSec}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

export interface BuildOptions {
  /** Alertmanager `receiver`; defaults to "regenwacht" */
  receiver?: string;
  /** Alertmanager `externalURL`; defaults to the origin of alarm.url */
  externalUrl?: string;
}

export function buildWebhookBody(payload: NotificationPayload, format: WebhookFormat, opts: BuildOptions = {}): object {
  return format === 'alertmanager' ? alertmanagerBody(payload, opts) : payload;
}

// Alertmanager's "zero time" for an alert that has not ended.
const AM_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager webhook v4 body, one alert per notification, so existing receivers work unchanged. */
export function alertmanagerBody(p: NotificationPayload, opts: BuildOptions = {}) {
  const a = p.alarm;
  // Alertmanager knows only firing and resolved: a closed alarm has ended too (the annotation says why)
  const resolved = p.type === 'alarm.resolved' || p.type === 'alarm.closed' || a.state === 'resolved' || a.state === 'closed';
  const status = resolved ? 'resolved' : 'firing';
  const labels = {
    alertname: a.ruleName,
    severity: a.severity,
    deviceId: a.deviceId,
    ruleId: a.ruleId,
    metric: a.metric,
    alarmId: a.id,
  };
  // Grouped by alarm id: escalation keeps the same group (and fingerprint), so receivers update
  // one incident instead of opening a second one. [docs/api.md Rules "does not open a second one"]
  const groupLabels = { alarmId: a.id };
  // a radar nowcast's expected time of the catchment's depth (the regenwacht body's alarm.expectedAt)
  const annotations = { summary: a.message, description: describe(p), ...(a.expectedAt && { expected_at: a.expectedAt }) };
  return {
    version: '4',
    groupKey: `{}:{alarmId="${a.id.replace(/["\\]/g, '\\$&')}"}`,
    truncatedAlerts: 0,
    status,
    receiver: opts.receiver ?? 'regenwacht',
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: opts.externalUrl ?? originOf(a.url),
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: a.startedAt,
        endsAt: resolved ? (a.resolvedAt ?? a.closedAt ?? a.updatedAt) : AM_ZERO_TIME,
        generatorURL: a.url ?? '',
        fingerprint: createHash('sha256').update(a.id).digest('hex').slice(0, 16),
      },
    ],
  };
}

function describe(p: NotificationPayload): string {
  const a = p.alarm;
  const window = a.window ? ` in ${a.window}` : '';
  return `${a.ruleName}: ${a.metric} ${a.value} ${a.unit}${window} (threshold ${a.threshold} ${a.unit}) at ${a.deviceName} (${a.deviceId}); state ${a.state}, event ${p.type}`;
}

function originOf(url: string | undefined): string {
  if (!url) return '';
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
