// German e-mail for one alarm event: subject, plain text and HTML with the same facts as the SMS, a link to
// the alarm and, while it can be acknowledged, the recipient's acknowledge link. Every message of one alarm
// lands in one thread: the firing is the thread's root, everything after replies to it. [issue 16, RFC 5322 3.6.4]

import { alarmSentence, localTime } from './sms-text.ts';
import type { NotificationEventType, NotificationPayload } from './types.ts';
import { CLOSED_WORDS, severityWords } from './wording.ts';
import { esc } from './xml.ts';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
}

const SUBJECT_LEAD: Record<NotificationEventType, string> = {
  'alarm.firing': 'ALARM',
  'alarm.escalated': 'HÖHER',
  'alarm.deescalated': 'NIEDRIGER',
  'alarm.acknowledged': 'QUITTIERT',
  'alarm.resolved': 'ENTWARNUNG',
  'alarm.closed': 'BEENDET',
  'alarm.stale': 'SENSOR STILL',
  'alarm.reminder': 'ERINNERUNG',
  'alarm.escalated_unacknowledged': 'ESKALATION',
};

const STATE_WORDS: Record<string, string> = { firing: 'ausgelöst', acknowledged: 'quittiert', resolved: 'beendet (Entwarnung)', closed: 'beendet' };

/** The thread of one alarm: `<alarm-17@kreis.example>`, the domain taken from the sender address. */
export function threadId(alarmId: string, domain: string): string {
  return `<alarm-${alarmId}@${domain}>`;
}

export function mailDomain(from: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(from);
  return m ? m[1] : 'regenwacht.invalid';
}

const oneLine = (s: string) => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();

export function emailMessage(payload: NotificationPayload, o: { notificationId: string; domain: string; alarmUrl: string; ackUrl?: string }): EmailMessage {
  const a = payload.alarm;
  const root = threadId(a.id, o.domain);
  const first = payload.type === 'alarm.firing';
  const sentence = alarmSentence(payload);
  const lead = payload.type === 'alarm.closed' ? `BEENDET (${CLOSED_WORDS[a.closedReason ?? 'rule_changed']})` : SUBJECT_LEAD[payload.type];
  const subject = oneLine(`${lead}: ${a.title ?? severityWords(a)} – ${a.deviceName} (Alarm ${a.id})`);
  const facts: Array<[string, string]> = [
    ['Station', `${oneLine(a.deviceName)} (${a.deviceId})`],
    ['Regel', oneLine(a.ruleName)],
    ['Zustand', STATE_WORDS[a.state] ?? a.state],
    ['Beginn', `${localTime(a.startedAt)} (${berlinDate(a.startedAt)})`],
    ...(a.acknowledgedBy ? [['Quittiert von', `${oneLine(a.acknowledgedBy)}, ${localTime(a.acknowledgedAt)}`] as [string, string]] : []),
    // a radar nowcast: when the catchment's depth is expected to be reached [issue 20]
    ...(a.expectedAt ? [['Erwartet ab ca.', `${localTime(a.expectedAt)} (${berlinDate(a.expectedAt)})`] as [string, string]] : []),
    // alarms on DWD data name their source (CC BY 4.0) [docs/dwd.md]
    ...(a.attribution ? [['Quelle', a.attribution] as [string, string]] : []),
    ...(a.location ? [['Ort', `${a.location.lat.toFixed(5)}, ${a.location.lon.toFixed(5)}`] as [string, string]] : []),
  ];
  const text = [
    sentence,
    '',
    ...(o.ackUrl ? [`Quittieren: ${o.ackUrl}`, ''] : []),
    ...facts.map(([k, v]) => `${k}: ${v}`),
    '',
    `Alarm ansehen: ${o.alarmUrl}`,
    '',
    '-- ',
    `Regenwacht · Alarm ${a.id} · ${payload.type}`,
  ].join('\n');
  const html = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${esc(subject)}</title></head>
<body style="font-family:sans-serif;max-width:40em">
<p style="font-size:1.15em"><strong>${esc(sentence)}</strong></p>
${o.ackUrl ? `<p><a href="${esc(o.ackUrl)}" style="display:inline-block;padding:.6em 1.2em;background:#b00020;color:#fff;text-decoration:none;border-radius:4px">Quittieren</a></p>` : ''}
<table>${facts.map(([k, v]) => `<tr><th style="text-align:left;padding-right:1em">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<p><a href="${esc(o.alarmUrl)}">Alarm ${esc(a.id)} ansehen</a></p>
<p style="color:#666;font-size:.85em">Regenwacht · ${esc(payload.type)}</p>
</body></html>`;
  if (first) return { subject, text, html, messageId: root };
  return { subject, text, html, messageId: `<alarm-${a.id}.${o.notificationId}@${o.domain}>`, inReplyTo: root, references: [root] };
}

const berlinDay = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', day: '2-digit', month: '2-digit', year: 'numeric' });
function berlinDate(iso: string | null | undefined): string {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? '' : berlinDay.format(t);
}
