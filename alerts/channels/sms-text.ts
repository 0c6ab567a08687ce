// German SMS texts: one SMS (160 GSM-7 septets) per event, severity word and alarm id always kept. [docs/formats.md SMS]
import type { Severity } from '../types.ts';
import { gsm7Length, gsm7Slice, toGsm7 } from './gsm7.ts';
import { CLOSED_WORDS, formatWindow, hazardOf, metricPhrase } from './wording.ts';
import type { NotificationEventType, NotificationPayload } from './types.ts';

export { gsm7Length, isGsm7 } from './gsm7.ts';

export const SMS_MAX = 160;

// [DWD Warnstufen 1–4] mapped onto CAP severities. [docs/api.md Alarms]
export const SEVERITY_WORDS: Record<Severity, string> = {
  minor: 'HINWEIS Stufe 1',
  moderate: 'WARNUNG Stufe 2',
  severe: 'UNWETTER Stufe 3',
  extreme: 'EXTREMES UNWETTER Stufe 4',
};

// A gauge alarm speaks the language of the flood warning service (Hessian Meldestufen I–III, as the
// pegel-meldestufen preset maps them), not of the DWD weather warnings. [docs/reference/domain.md 2.1]
export const WATER_WORDS: Record<Severity, string> = {
  minor: 'HOCHWASSER Vorwarnung',
  moderate: 'HOCHWASSER Meldestufe I',
  severe: 'HOCHWASSER Meldestufe II',
  extreme: 'HOCHWASSER Meldestufe III',
};
const OTHER_WORDS: Record<Severity, string> = { minor: 'ALARM Stufe 1', moderate: 'ALARM Stufe 2', severe: 'ALARM Stufe 3', extreme: 'ALARM Stufe 4' };

/** The severity words for this alarm's hazard; never shortened away. */
export function severityWords(a: Parameters<typeof hazardOf>[0] & { severity: Severity }): string {
  const h = hazardOf(a);
  if (h === 'rain') return SEVERITY_WORDS[a.severity];
  if (h === 'water') return WATER_WORDS[a.severity];
  if (h === 'offline') return `SENSORAUSFALL (${OTHER_WORDS[a.severity].slice(6)})`;
  return OTHER_WORDS[a.severity];
}

const LEAD: Record<NotificationEventType, string> = {
  'alarm.firing': '',
  'alarm.escalated': 'HÖHER: ',
  'alarm.deescalated': 'NIEDRIGER: ',
  'alarm.acknowledged': 'QUITTIERT',
  'alarm.resolved': 'ENTWARNUNG: ',
  'alarm.closed': 'BEENDET: ',
  'alarm.stale': 'SENSOR STILL: ',
  'alarm.reminder': 'ERINNERUNG: ',
  'alarm.escalated_unacknowledged': 'ESKALATION: ',
};

/** The words that open the SMS: the event, and for a closing why (never "ENTWARNUNG"). [docs/api.md Alarms] */
function leadOf(payload: NotificationPayload): string {
  const a = payload.alarm;
  if (payload.type === 'alarm.closed') return `BEENDET (${CLOSED_WORDS[a.closedReason ?? 'rule_changed']}): `;
  if (payload.type === 'alarm.escalated_unacknowledged') {
    const since = payload.unacknowledgedFor ? ` seit ${formatWindow(payload.unacknowledgedFor)}` : '';
    return `ESKALATION: Alarm ${a.id}${since} nicht quittiert - `;
  }
  return LEAD[payload.type];
}

const berlinTime = new Intl.DateTimeFormat('de-DE', {
  timeZone: 'Europe/Berlin',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export function localTime(iso: string | null | undefined): string {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? '' : berlinTime.format(t);
}

interface Parts {
  lead: string;
  ackBy: string;
  sev: string;
  what: string;
  threshold: string;
  name: string;
  deviceId: string;
  when: string;
  alarmId: string;
}

function render(p: Parts, resolved: boolean): string {
  const lead = p.lead === 'QUITTIERT' ? `QUITTIERT${p.ackBy ? ` von ${p.ackBy}` : ''}: ` : p.lead;
  const what = [p.what, p.threshold].filter(Boolean).join(' ');
  const where = p.name && p.deviceId ? `${p.name} (${p.deviceId})` : p.name || p.deviceId;
  const body = [what, where && `an ${where}`, p.when].filter(Boolean).join(' ');
  const core = `${lead}${p.sev}${resolved ? ' beendet' : ''}${body ? `: ${body}` : ''}`;
  return `${core.replace(/\.+$/, '')}. Alarm ${p.alarmId}`;
}

type Field = Exclude<keyof Parts, 'lead' | 'sev' | 'alarmId'>;
type Step = { drop: Field } | { cut: Field; min: number };

// Least important first: a long device name, the threshold, the rest of the name, the device id,
// the time, a long acknowledger name, then the measurement itself. The lead, severity words and alarm id are never touched.
const STEPS: Step[] = [
  { cut: 'name', min: 12 },
  { drop: 'threshold' },
  { cut: 'name', min: 0 },
  { cut: 'deviceId', min: 0 },
  { drop: 'when' },
  { cut: 'ackBy', min: 20 },
  { cut: 'what', min: 0 },
  { cut: 'ackBy', min: 0 },
];

/**
 * Tries ever more of STEPS on a fresh copy: drops first, then cuts exactly as far as needed,
 * so a name is only cut as far as the remaining room requires.
 */
function shortenToFit(orig: Parts, resolved: boolean): string {
  let text = render(orig, resolved);
  for (let k = 1; k <= STEPS.length && gsm7Length(text) > SMS_MAX; k++) {
    const p = { ...orig };
    const steps = STEPS.slice(0, k);
    for (const s of steps) if ('drop' in s) p[s.drop] = '';
    for (const s of steps) {
      if (!('cut' in s)) continue;
      p[s.cut] = cut(p[s.cut], gsm7Length(render(p, resolved)) - SMS_MAX, s.min);
    }
    text = render(p, resolved);
  }
  return text;
}

/** Shortens s by `over` septets (marking the cut with "."), never below `min` (0: drop it). */
function cut(s: string, over: number, min: number): string {
  const len = gsm7Length(s);
  if (over <= 0 || len <= min) return s;
  const keep = Math.max(len - over - 1, min - 1);
  return keep < 1 ? '' : `${gsm7Slice(s, keep).trimEnd()}.`;
}

/** Names come from operators and integrators: a newline or control character must not start a forged line. [issue 11] */
const oneLine = (s: string): string => s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/ {2,}/g, ' ').trim();

export function smsText(payload: NotificationPayload): string {
  const a = payload.alarm;
  const m = metricPhrase(a);
  const at = whenPhrase(payload);
  const ended = payload.type === 'alarm.resolved' || payload.type === 'alarm.closed';
  const p: Parts = {
    lead: toGsm7(leadOf(payload)),
    ackBy: toGsm7(oneLine(a.acknowledgedBy ?? '')),
    sev: severityWords(a),
    what: toGsm7(ended || payload.type === 'alarm.stale' ? `zuletzt ${m.what}` : m.what),
    threshold: toGsm7(m.threshold),
    name: toGsm7(oneLine(a.deviceName)),
    deviceId: toGsm7(oneLine(a.deviceId)),
    when: at,
    alarmId: toGsm7(a.id),
  };
  return shortenToFit(p, payload.type === 'alarm.resolved');
}

// Firing and reminders say since when; the other events say when they happened.
function whenPhrase(p: NotificationPayload): string {
  const a = p.alarm;
  const iso =
    p.type === 'alarm.firing' || p.type === 'alarm.reminder' || p.type === 'alarm.escalated_unacknowledged'
      ? a.startedAt
      : p.type === 'alarm.acknowledged'
        ? (a.acknowledgedAt ?? a.updatedAt)
        : p.type === 'alarm.resolved'
          ? (a.resolvedAt ?? a.updatedAt)
          : p.type === 'alarm.closed'
            ? (a.closedAt ?? a.updatedAt)
            : a.updatedAt;
  // a silent sensor: the alarm holds, and the reader needs to know since when nothing came
  if (p.type === 'alarm.stale') return p.lastReadingAt ? `keine Daten seit ${localTime(p.lastReadingAt)}` : 'keine Daten';
  const hhmm = localTime(iso);
  if (!hhmm) return '';
  return p.type === 'alarm.firing' || p.type === 'alarm.reminder' || p.type === 'alarm.escalated_unacknowledged' ? `seit ${hhmm}` : `um ${hhmm}`;
}
