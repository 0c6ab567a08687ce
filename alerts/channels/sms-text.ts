// German SMS texts: one SMS (160 GSM-7 septets) per event, severity word and alarm id always kept. [docs/formats.md SMS]
import { gsm7Length, gsm7Slice, toGsm7 } from './gsm7.ts';
import type { NotificationEventType, NotificationPayload } from './types.ts';
import { CLOSED_WORDS, endedPhrase, eventWords, formatWindow, hazardOf, isForecast, metricPhrase, severityWords } from './wording.ts';

export { gsm7Length, isGsm7 } from './gsm7.ts';

export const SMS_MAX = 160;

export { SEVERITY_WORDS, severityWords, WATER_WORDS } from './wording.ts';

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
    // the id is named up front; an id too long to name twice is left to the end of the text
    return `ESKALATION: ${a.id.length <= 12 ? `Alarm ${a.id} ` : ''}${since.trim()} nicht quittiert - `.replace('  ', ' ');
  }
  return LEAD[payload.type];
}

const berlinTime = new Intl.DateTimeFormat('de-DE', {
  timeZone: 'Europe/Berlin',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const berlinZone = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', timeZoneName: 'short' });
const HOUR_MS = 3_600_000;

/** "14:05" in Berlin; on the autumn night whose 02:00–02:59 happens twice, with the zone: "02:30 MESZ" / "02:30 MEZ". */
export function localTime(iso: string | null | undefined): string {
  const t = iso ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(t)) return '';
  const hhmm = berlinTime.format(t);
  const twice = berlinTime.format(t - HOUR_MS) === hhmm || berlinTime.format(t + HOUR_MS) === hhmm;
  if (!twice) return hhmm;
  const zone = berlinZone.formatToParts(t).find((x) => x.type === 'timeZoneName')?.value ?? '';
  return `${hhmm} ${zone}`.trim();
}

interface Parts {
  lead: string;
  ackBy: string;
  sev: string;
  /** " beendet" on an all-clear */
  ended: string;
  /** after the level words: ": " (or " " where the words run on, "PEGELANSTIEG 30 cm in 1 h") */
  joiner: string;
  /** the hazard's event name (rain: the DWD event), never shortened */
  event: string;
  what: string;
  threshold: string;
  name: string;
  deviceId: string;
  /** "an" a station; "für" the catchment a radar nowcast speaks of */
  prep: string;
  when: string;
  alarmId: string;
  /** "Quittieren: https://…/q/<token>", never shortened: dropped whole when it would cost the station name */
  link: string;
}

function render(p: Parts): string {
  const lead = p.lead === 'QUITTIERT' ? `QUITTIERT${p.ackBy ? ` von ${p.ackBy}` : ''}: ` : p.lead;
  const what = [p.what, p.threshold].filter(Boolean).join(' ');
  const where = p.name && p.deviceId ? `${p.name} (${p.deviceId})` : p.name || p.deviceId;
  // a forecast's expected onset follows the catchment after a comma: "… für Einzugsgebiet Lahn-Nord, ab ca. 14:20"
  const when = p.when.startsWith('ab ca.') && where ? `, ${p.when}` : p.when && ` ${p.when}`;
  const body = `${[what, where && `${p.prep} ${where}`].filter(Boolean).join(' ')}${when}`.trim();
  const rest = [p.event, body].filter(Boolean).join(', ');
  const core = `${lead}${p.sev}${p.ended}${rest ? `${p.joiner}${rest}` : ''}`;
  return `${core.replace(/\.+$/, '')}. Alarm ${p.alarmId}${p.link ? ` ${p.link}` : ''}`;
}

type Field = Exclude<keyof Parts, 'lead' | 'sev' | 'alarmId' | 'ended' | 'joiner' | 'event' | 'link' | 'prep'>;
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

// A radar nowcast names its catchment, not a station id, and no threshold: the expected onset goes first,
// and only then the catchment's name. [issue 20]
const FORECAST_STEPS: Step[] = [
  { drop: 'when' },
  { cut: 'name', min: 12 },
  { cut: 'ackBy', min: 20 },
  { cut: 'name', min: 0 },
  { cut: 'what', min: 0 },
  { cut: 'ackBy', min: 0 },
];

/**
 * The acknowledge link only rides along where the station name stays whole: the commander needs the name.
 * To make room for the link, the facts its page shows anyway go first — the threshold, then the device id; the
 * level, the event, the measurement, the name and the time are never touched for it.
 * When even then the text does not fit, the link is left out and the text shortened as without it (a reply
 * "OK <id>" acknowledges too). [issue 16]
 */
function shortenToFit(orig: Parts): string {
  if (!orig.link) return shortenPlain(orig);
  const noThreshold = { ...orig, threshold: '' };
  for (const p of [orig, noThreshold, { ...noThreshold, deviceId: '' }]) {
    const text = render(p);
    if (gsm7Length(text) <= SMS_MAX) return text;
  }
  return shortenPlain({ ...orig, link: '' });
}

/**
 * Tries ever more of STEPS on a fresh copy: drops first, then cuts exactly as far as needed,
 * so a name is only cut as far as the remaining room requires.
 */
function shortenPlain(orig: Parts): string {
  let text = render(orig);
  const all = orig.prep === 'für' ? FORECAST_STEPS : STEPS;
  for (let k = 1; k <= all.length && gsm7Length(text) > SMS_MAX; k++) {
    const p = { ...orig };
    const steps = all.slice(0, k);
    for (const s of steps) if ('drop' in s) p[s.drop] = '';
    for (const s of steps) {
      if (!('cut' in s)) continue;
      p[s.cut] = cut(p[s.cut], gsm7Length(render(p)) - SMS_MAX, s.min);
    }
    text = render(p);
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
const oneLine = (s: string): string =>
  s
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();

/** Events a person can still acknowledge from the message: the alarm is open and nobody has acknowledged it. */
export function ackable(payload: NotificationPayload): boolean {
  return payload.alarm.state === 'firing' && ACKABLE_EVENTS.has(payload.type);
}
const ACKABLE_EVENTS: ReadonlySet<NotificationEventType> = new Set([
  'alarm.firing',
  'alarm.escalated',
  'alarm.reminder',
  'alarm.escalated_unacknowledged',
  'alarm.stale',
]);

/** `ackUrl`: the recipient's own acknowledge link (PUBLIC_URL/q/<token>), appended when it fits beside the whole station name. */
export function smsText(payload: NotificationPayload, o: { ackUrl?: string } = {}): string {
  return shortenToFit(partsOf(payload, o.ackUrl));
}

/** The same facts as the SMS in one sentence, never shortened (e-mail, voice call). */
export function alarmSentence(payload: NotificationPayload): string {
  return render(partsOf(payload, undefined));
}

function partsOf(payload: NotificationPayload, ackUrl: string | undefined): Parts {
  const a = payload.alarm;
  const rise = hazardOf(a) === 'rise';
  const resolved = payload.type === 'alarm.resolved';
  // an all-clear gives the deciding level's figure now; a closing what was last measured
  const m = resolved ? endedPhrase(a) : metricPhrase(a);
  // a radar nowcast: "Radarvorhersage DWD: 28 mm in 60 min erwartet für Einzugsgebiet Lahn-Nord, ab ca. 14:20";
  // the catchment's virtual device id says nothing to the reader and is left out [issue 20]
  const forecast = isForecast(a);
  const p: Parts = {
    // a rise that stopped is not an all-clear: "PEGELANSTIEG: Anstieg beendet, jetzt …"
    lead: toGsm7(resolved && rise ? '' : leadOf(payload)),
    ackBy: toGsm7(oneLine(a.acknowledgedBy ?? '')),
    sev: severityWords(a),
    ended: resolved && !rise ? ' beendet' : '',
    joiner: rise && !resolved ? ' ' : ': ',
    event: eventWords(a),
    what: toGsm7(payload.type === 'alarm.closed' || payload.type === 'alarm.stale' ? `zuletzt ${m.what}` : m.what),
    // "PEGELANSTIEG 30 cm in 1 h an …": the rise speaks for itself
    // a forecast's threshold is in the rule, e-mail and CAP; the SMS keeps room for the catchment and the onset
    threshold: toGsm7((rise && !resolved) || forecast ? '' : m.threshold),
    name: toGsm7(oneLine(a.deviceName)),
    deviceId: forecast ? '' : toGsm7(oneLine(a.deviceId)),
    prep: forecast ? 'für' : 'an',
    when: whenPhrase(payload),
    alarmId: toGsm7(a.id),
    link: ackUrl ? toGsm7(`Quittieren: ${ackUrl}`) : '',
  };
  return p;
}

/** events about a forecast still in force: they say when the rain is expected */
const EXPECTING: ReadonlySet<NotificationEventType> = new Set([
  'alarm.firing',
  'alarm.escalated',
  'alarm.deescalated',
  'alarm.reminder',
  'alarm.escalated_unacknowledged',
]);

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
  // a nowcast that expects the catchment's depth to be reached says when: "ab ca. 14:20" [issue 20]
  const expected = localTime(a.expectedAt);
  if (expected && EXPECTING.has(p.type)) return `ab ca. ${expected}`;
  const hhmm = localTime(iso);
  if (!hhmm) return '';
  return p.type === 'alarm.firing' || p.type === 'alarm.reminder' || p.type === 'alarm.escalated_unacknowledged' ? `seit ${hhmm}` : `um ${hhmm}`;
}
