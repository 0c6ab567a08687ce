// One message for the alarms of a storm that a grouping route collected (issue 16): one SMS, one e-mail,
// one webhook body naming every alarm. Each alarm stays acknowledgeable on its own (reply "OK <id>", its own
// link in the e-mail). [docs/api.md Routes, grouping]

import { severityRank } from '../types.ts';
import { threadId } from './email.ts';
import { gsm7Length, gsm7Slice, toGsm7 } from './gsm7.ts';
import { alarmSentence, localTime, SMS_MAX } from './sms-text.ts';
import type { NotificationPayload } from './types.ts';
import { alertmanagerBody } from './webhook.ts';
import { metricPhrase, severityWords } from './wording.ts';
import { esc } from './xml.ts';

export interface GroupMessage {
  /** what the group is named by, e.g. the catchment "Lahn" */
  label: string;
  /** alarms this group's earlier messages named: this one is an update ("weitere") */
  earlier: number;
  /** the alarms of this message */
  alarms: NotificationPayload[];
}

const oneLine = (s: string): string =>
  s
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();

/** Highest severity first, then the highest value, then the oldest alarm. */
export function byWeight(ps: NotificationPayload[]): NotificationPayload[] {
  return [...ps].sort(
    (x, y) =>
      severityRank(y.alarm.severity) - severityRank(x.alarm.severity) ||
      (y.alarm.value ?? 0) - (x.alarm.value ?? 0) ||
      Number(x.alarm.id) - Number(y.alarm.id) ||
      x.alarm.id.localeCompare(y.alarm.id),
  );
}

function ids(ps: NotificationPayload[]): string[] {
  return [...ps].sort((x, y) => Number(x.alarm.id) - Number(y.alarm.id) || x.alarm.id.localeCompare(y.alarm.id)).map((p) => p.alarm.id);
}

/** "UNWETTER Stufe 3 an 7 Stationen (Lahn)" / "… an 3 weiteren Stationen (Lahn, 10 insgesamt)" */
function headline(g: GroupMessage, label: string): string {
  const top = byWeight(g.alarms)[0].alarm;
  const n = g.alarms.length;
  const more = g.earlier > 0;
  const where = [label, more ? `${g.earlier + n} insgesamt` : ''].filter(Boolean).join(', ');
  return `${severityWords(top)} an ${n} ${more ? 'weiteren ' : ''}Stationen${where ? ` (${where})` : ''}`;
}

/**
 * "UNWETTER Stufe 3 an 7 Stationen (Lahn): höchste 41,6 mm Regen in 1 h an Pegel X (gauge-07) seit 14:05.
 * Alarme 3, 4, 5, 6, 7, 8, 9": one SMS of 160 GSM-7 characters. What gives way first: the device id, the
 * time, then ids at the end of the list ("u. a."), then the group's name, last the station's name.
 */
export function groupSmsText(g: GroupMessage): string {
  const top = byWeight(g.alarms)[0].alarm;
  const all = ids(g.alarms);
  const what = toGsm7(metricPhrase(top).what);
  const name = toGsm7(oneLine(top.deviceName));
  const dev = toGsm7(oneLine(top.deviceId));
  const since = localTime(top.startedAt);
  const label0 = toGsm7(oneLine(g.label));
  const render = (o: { dev: boolean; when: boolean; k: number; label: string; name: string }) => {
    const where = o.name && o.dev ? `${o.name} (${dev})` : o.name || dev;
    const list = o.k >= all.length ? all.join(', ') : `${all.slice(0, o.k).join(', ')} u. a.`;
    return `${headline(g, o.label)}: höchste ${what} an ${where}${o.when && since ? ` seit ${since}` : ''}. Alarme ${list}`;
  };
  for (const [dev, when] of [
    [true, true],
    [false, true],
    [false, false],
  ] as const) {
    for (let k = all.length; k >= 1; k--) {
      const t = render({ dev, when, k, label: label0, name });
      if (gsm7Length(t) <= SMS_MAX) return t;
    }
  }
  // absurd names: the group's name, then the station's name give way, cut to the room left
  let label = label0;
  let nm = name;
  for (const field of ['label', 'name'] as const) {
    const over = gsm7Length(render({ dev: false, when: false, k: 1, label, name: nm })) - SMS_MAX;
    if (over <= 0) break;
    const s = field === 'label' ? label : nm;
    const keep = Math.max(0, gsm7Length(s) - over - 1);
    const cut = keep < 1 ? '' : `${gsm7Slice(s, keep).trimEnd()}.`;
    if (field === 'label') label = cut;
    else nm = cut;
  }
  return gsm7Slice(render({ dev: false, when: false, k: 1, label, name: nm }), SMS_MAX);
}

export interface GroupEmailLinks {
  /** the alarm's page, by alarm id */
  alarmUrl: (alarmId: string) => string;
  /** the recipient's acknowledge link per alarm id, for the alarms that can still be acknowledged */
  ackUrls: Record<string, string>;
}

/** One e-mail listing every alarm of the message with its own page and acknowledge link. */
export function groupEmailMessage(g: GroupMessage, o: GroupEmailLinks & { notificationId: string; domain: string }) {
  const head = oneLine(headline(g, g.label));
  const list = byWeight(g.alarms);
  const subject = oneLine(`ALARM: ${head}`);
  const lines = list.map((p) => {
    const ack = o.ackUrls[p.alarm.id];
    return [`- ${alarmSentence(p)}`, `  Alarm ansehen: ${o.alarmUrl(p.alarm.id)}`, ...(ack ? [`  Quittieren: ${ack}`] : [])].join('\n');
  });
  const text = [
    `${head}.`,
    'Jeder Alarm wird einzeln quittiert (Link unten oder SMS-Antwort "OK <Nummer>").',
    '',
    ...lines,
    '',
    '-- ',
    `Regenwacht · ${list.length} Alarme · alarm.grouped`,
  ].join('\n');
  const html = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${esc(subject)}</title></head>
<body style="font-family:sans-serif;max-width:40em">
<p style="font-size:1.15em"><strong>${esc(head)}</strong></p>
<p>Jeder Alarm wird einzeln quittiert.</p>
<ul>${list
    .map((p) => {
      const ack = o.ackUrls[p.alarm.id];
      return `<li><p>${esc(alarmSentence(p))}</p><p><a href="${esc(o.alarmUrl(p.alarm.id))}">Alarm ${esc(p.alarm.id)} ansehen</a>${
        ack ? ` · <a href="${esc(ack)}">Quittieren</a>` : ''
      }</p></li>`;
    })
    .join('\n')}</ul>
<p style="color:#666;font-size:.85em">Regenwacht · alarm.grouped</p>
</body></html>`;
  // its own message: each alarm's later e-mails (escalation, all-clear) keep threading by alarm
  return {
    subject,
    text,
    html,
    messageId: `<group.${o.notificationId}@${o.domain}>`,
    references: list.map((p) => threadId(p.alarm.id, o.domain)),
  };
}

/**
 * Webhook body of a grouped message (`format: regenwacht`): `type` "alarm.grouped", the group, every alarm
 * (as in `alarm.firing`), and `alarm`: the highest of them, so a receiver reading only `alarm` sees the worst.
 */
export function groupWebhookBody(g: GroupMessage, o: { timestamp: string; routeId: string | null; key: string }) {
  const list = byWeight(g.alarms);
  return {
    type: 'alarm.grouped',
    timestamp: o.timestamp,
    group: { routeId: o.routeId, key: o.key, label: g.label, count: list.length, earlier: g.earlier },
    alarm: list[0].alarm,
    alarms: list.map((p) => p.alarm),
  };
}

/** Alertmanager webhook v4 body of a grouped message: one alert per alarm, grouped by the route's group. */
export function alertmanagerGroupBody(g: GroupMessage, o: { key: string; externalUrl?: string }) {
  const list = byWeight(g.alarms);
  const bodies = list.map((p) => alertmanagerBody(p, { externalUrl: o.externalUrl }));
  const first = bodies[0];
  const common = Object.fromEntries(
    Object.entries(first.commonLabels).filter(([k, v]) => bodies.every((b) => (b.commonLabels as Record<string, string>)[k] === v)),
  );
  return {
    ...first,
    groupKey: `{}:{group="${o.key.replace(/["\\]/g, '\\$&')}"}`,
    groupLabels: { group: o.key },
    commonLabels: common,
    commonAnnotations: { summary: headline(g, g.label) },
    alerts: bodies.flatMap((b) => b.alerts),
  };
}
