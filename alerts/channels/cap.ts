// CAP 1.2 documents and the Atom feed of open alarms. [docs/formats.md CAP 1.2] [CAP 1.2 §3.2]
import type { Alarm, Severity } from '../types.ts';
import {
  alarmTitle,
  attributionOf,
  CLOSED_WORDS,
  endedPhrase,
  eventWords,
  type Hazard,
  hazardOf,
  isForecast,
  metricPhrase,
  rainEvent,
  severityWords,
} from './wording.ts';
import { el, esc } from './xml.ts';

export const CAP_NS = 'urn:oasis:names:tc:emergency:cap:1.2';

export type CapMsgType = 'Alert' | 'Update' | 'Cancel';

export interface CapInput {
  alarm: Alarm;
  device: { name: string; location: { lat: number; lon: number } | null };
  msgType: CapMsgType;
  identifier: string;
  sent: Date;
  /** earlier messages as "sender,identifier,sent" triples [CAP 1.2 references] */
  references: string[];
  sender: string;
  publicUrl: string;
  /** radius of the area circle around the device; default 1 km */
  radiusKm?: number;
  /** CAP status and scope (default Actual, Restricted with `restriction`); a sensor outage is never Public */
  status?: 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft';
  scope?: 'Public' | 'Restricted';
  restriction?: string;
  /** the municipality's 12-digit Amtlicher Regionalschlüssel, as NINA/MoWaS key areas */
  ars?: string;
  /** `<web>`: where a reader learns more (default: the alarm in the operator API) */
  web?: string;
  /** `<onset>`: a radar nowcast's expected time of the catchment's depth (its `expectedAt`); not on a Cancel */
  onset?: Date;
}

/** How long an open alarm's document stays valid without a newer one; a Cancel expires at once. */
export const CAP_VALID_MS = 24 * 3_600_000;
const DEFAULT_RESTRICTION = 'Nur für Leitstellen und Einsatzkräfte; öffentliche Warnungen gibt die zuständige Behörde über MoWaS heraus.';

/** A sensor outage is an operator matter, never a public weather warning. */
function scopeOf(input: CapInput): { scope: 'Public' | 'Restricted'; restriction?: string } {
  const scope = input.scope === 'Public' && hazardOf(input.alarm) !== 'offline' ? 'Public' : 'Restricted';
  return scope === 'Public' ? { scope } : { scope, restriction: input.restriction ?? DEFAULT_RESTRICTION };
}

const CAP_SEVERITY: Record<Severity, string> = {
  minor: 'Minor',
  moderate: 'Moderate',
  severe: 'Severe',
  extreme: 'Extreme',
};

// CAP `category` and `event` per hazard; rain uses the DWD event of its window and level. [DWD CAP profile]
const CATEGORY: Record<Hazard, string> = { rain: 'Met', water: 'Env', rise: 'Env', offline: 'Infra', dwd: 'Met', other: 'Other' };
function capEvent(a: Alarm, h: Hazard): string {
  if (h === 'rain') return rainEvent(a);
  if (h === 'dwd') return eventWords(a);
  if (h === 'water') return 'HOCHWASSER';
  if (h === 'rise') return severityWords(a); // PEGELANSTIEG
  return h === 'offline' ? 'SENSORAUSFALL' : 'GRENZWERTÜBERSCHREITUNG';
}

const INSTRUCTION: Record<Hazard, string> = {
  rain:
    'Meiden Sie Unterführungen, Keller und Tiefgaragen. Fahren oder gehen Sie nicht durch überflutete Straßen. ' +
    'Halten Sie Abflüsse frei und verschließen Sie Kellerfenster und Türen.',
  water:
    'Halten Sie Abstand zu Ufern, Brücken und Durchlässen. Betreten Sie keine überfluteten Wege oder Keller. ' +
    'Bringen Sie Fahrzeuge und Gegenstände aus dem Uferbereich in Sicherheit.',
  dwd:
    'Der Deutsche Wetterdienst warnt vor Starkregen. Meiden Sie Unterführungen, Keller und Tiefgaragen; ' +
    'halten Sie Abflüsse frei. Quelle: Deutscher Wetterdienst.',
  rise: 'Das Wasser steigt schnell. Halten Sie Abstand zu Ufern, Brücken und Durchlässen und achten Sie auf weitere Meldungen.',
  offline: 'Die Messstelle liefert keine Daten und wird geprüft. Achten Sie bei Regen selbst auf steigendes Wasser.',
  other: 'Achten Sie auf weitere Meldungen.',
};
const INSTRUCTION_EXTREME = 'Lebensgefahr: Suchen Sie höher gelegene Stockwerke auf und folgen Sie den Anweisungen der Einsatzkräfte. ';
const INSTRUCTION_CANCEL = 'Die Gefahr ist vorüber. Achten Sie weiterhin auf Schäden, Schlamm und unterspülte Wege.';

// a rise that stopped says nothing about how high the water stands
const INSTRUCTION_RISE_ENDED = 'Der Anstieg hat aufgehört; der Wasserstand kann weiter hoch sein. Halten Sie weiter Abstand zu Ufern.';
const INSTRUCTION_CLOSED =
  'Diese Warnung endet, weil die Messstelle oder ihre Regel geändert wurde, nicht weil die Gefahr vorüber ist. Achten Sie weiter auf amtliche Warnungen.';

// CAP forbids spaces, commas, "<" and "&" in identifier and sender. [CAP 1.2 §3.2.1]
const CAP_ID = /^[^\s,<&]+$/;

/** "YYYY-MM-DDThh:mm:ss+00:00": the XSD pattern allows neither milliseconds nor "Z". */
export function capDateTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}+00:00`;
}

export function capAlertXml(input: CapInput): string {
  for (const [k, v] of [
    ['identifier', input.identifier],
    ['sender', input.sender],
  ] as const) {
    if (!CAP_ID.test(v)) throw new RangeError(`CAP ${k} must not contain spaces, commas, < or &`);
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<alert xmlns="${CAP_NS}">\n` +
    el('identifier', input.identifier, '  ') +
    el('sender', input.sender, '  ') +
    el('sent', capDateTime(input.sent), '  ') +
    el('status', input.status ?? 'Actual', '  ') +
    el('msgType', input.msgType, '  ') +
    // alarms on DWD data (radar nowcast, DWD warnings) name the DWD as their source (CC BY 4.0) [docs/dwd.md]
    el('source', attributionOf(input.alarm), '  ') +
    el('scope', scopeOf(input).scope, '  ') +
    el('restriction', scopeOf(input).restriction ?? '', '  ') +
    el('references', input.references.join(' '), '  ') +
    infoXml(input) +
    '</alert>\n'
  );
}

function infoXml(input: CapInput): string {
  const { alarm, device, msgType } = input;
  const hazard = hazardOf(alarm);
  const category = CATEGORY[hazard];
  const event = capEvent(alarm, hazard);
  const cancel = msgType === 'Cancel';
  const where = `${device.name} (${alarm.deviceId})`;
  // closed: ended by a change of configuration, which says nothing about the danger [docs/api.md Alarms]
  const closed = cancel && alarm.state === 'closed';
  const riseEnded = cancel && !closed && hazard === 'rise';
  const headline = closed
    ? `Beendet (${CLOSED_WORDS[alarm.closedReason ?? 'rule_changed']}): ${alarmTitle(alarm)} an ${where}`
    : riseEnded
      ? `${alarmTitle(alarm)}: Anstieg beendet an ${where}`
      : cancel
        ? `Entwarnung: ${alarmTitle(alarm)} an ${where}`
        : `${alarmTitle(alarm)} an ${where}`;
  const i = '    ';
  return (
    '  <info>\n' +
    el('language', 'de-DE', i) +
    el('category', category, i) +
    el('event', event, i) +
    el('responseType', closed || riseEnded ? 'Monitor' : responseType(hazard, alarm.severity, cancel), i) +
    el('urgency', 'Immediate', i) +
    el('severity', CAP_SEVERITY[alarm.severity], i) +
    // a radar nowcast is a forecast, not a measurement [CAP 1.2 certainty]
    el('certainty', isForecast(alarm) ? 'Likely' : 'Observed', i) +
    // when the forecast expects the rain: the same time as the webhook's expectedAt and the SMS's "ab ca." [CAP 1.2 onset]
    el('onset', input.onset && !cancel && !Number.isNaN(input.onset.getTime()) ? capDateTime(input.onset) : undefined, i) +
    el('expires', capDateTime(new Date(input.sent.getTime() + (cancel ? 0 : CAP_VALID_MS))), i) +
    el('senderName', 'Regenwacht', i) +
    el('headline', headline, i) +
    el('description', description(input, where), i) +
    el(
      'instruction',
      withSource(alarm, closed ? INSTRUCTION_CLOSED : riseEnded ? INSTRUCTION_RISE_ENDED : cancel ? INSTRUCTION_CANCEL : instruction(hazard, alarm.severity)),
      i,
    ) +
    el('web', input.web ?? `${input.publicUrl.replace(/\/+$/, '')}/api/v1/alarms/${encodeURIComponent(alarm.id)}`, i) +
    parameters(alarm) +
    areaXml(input) +
    '  </info>\n'
  );
}

function responseType(h: Hazard, s: Severity, cancel: boolean): string {
  if (cancel) return 'AllClear';
  if (h === 'offline') return 'Monitor';
  return s === 'severe' || s === 'extreme' ? 'Avoid' : 'Prepare';
}

/** alarms on DWD data end their instruction with "Quelle: Deutscher Wetterdienst." (once) [docs/dwd.md] */
function withSource(a: Alarm, text: string): string {
  if (!attributionOf(a) || text.includes('Quelle: Deutscher Wetterdienst')) return text;
  return `${text} Quelle: Deutscher Wetterdienst.`;
}

function instruction(h: Hazard, s: Severity): string {
  return (s === 'extreme' && h !== 'offline' ? INSTRUCTION_EXTREME : '') + INSTRUCTION[h];
}

const berlin = new Intl.DateTimeFormat('de-DE', {
  timeZone: 'Europe/Berlin',
  dateStyle: 'medium',
  timeStyle: 'short',
});

function description({ alarm, msgType }: CapInput, where: string): string {
  const rise = hazardOf(alarm) === 'rise' ? 'Anstieg ' : '';
  const figures = (m: { what: string; threshold: string }) => `${m.what}${m.threshold ? ` ${m.threshold}` : ''}`;
  const since = Number.isNaN(Date.parse(alarm.startedAt)) ? '' : ` seit ${berlin.format(Date.parse(alarm.startedAt))} Uhr`;
  // a radar nowcast is no measurement: "Für Einzugsgebiet Lahn-Nord (catchment-lahn-nord): Radarvorhersage DWD: …"
  const measured = isForecast(alarm)
    ? `Für ${where}: ${figures(metricPhrase(alarm))}.`
    : `An der Messstelle ${where} gemessen: ${rise}${figures(metricPhrase(alarm))}.`;
  const at = (end: string) => (Number.isNaN(Date.parse(end)) ? '' : ` am ${berlin.format(Date.parse(end))} Uhr`);
  if (msgType === 'Cancel' && alarm.state === 'closed') {
    const why = CLOSED_WORDS[alarm.closedReason ?? 'rule_changed'];
    return `Die Warnung „${alarm.ruleName}“ wurde${at(alarm.closedAt ?? alarm.updatedAt)} beendet (${why}). Zuletzt ${measured.charAt(0).toLowerCase()}${measured.slice(1)}`;
  }
  if (msgType === 'Cancel') {
    // the all-clear gives the deciding level's own figure now, next to its own threshold
    const now = `${isForecast(alarm) ? 'Für' : 'An der Messstelle'} ${where}: ${figures(endedPhrase(alarm))}.`;
    return `Die Warnung „${alarm.ruleName}“ wurde${at(alarm.resolvedAt ?? alarm.updatedAt)} aufgehoben. ${now}`;
  }
  return `${measured} Warnung „${alarm.ruleName}“${since}.`;
}

// Machine-readable figures with a decimal point, unlike the German prose. [CAP 1.2 parameter]
function parameters(a: Alarm): string {
  const pairs: Array<[string, string | number | null | undefined]> = [
    ['alarmId', a.id],
    ['ruleId', a.ruleId],
    ['deviceId', a.deviceId],
    ['metric', a.metric],
    ['value', a.value],
    ['threshold', a.threshold],
    ['unit', a.unit],
    ['window', a.window],
    ['state', a.state],
    ['attribution', attributionOf(a)],
  ];
  return pairs
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([n, v]) => `    <parameter>\n      <valueName>${esc(n)}</valueName>\n      <value>${esc(v as string | number)}</value>\n    </parameter>\n`)
    .join('');
}

function areaXml({ alarm, device, radiusKm, ars }: CapInput): string {
  const loc = device.location;
  const circle =
    loc && Number.isFinite(loc.lat) && Number.isFinite(loc.lon) ? `      <circle>${round(loc.lat)},${round(loc.lon)} ${radiusKm ?? 1}</circle>\n` : '';
  // [CAP 1.2 §3.3.4 geocode] after polygon/circle; ARS as NINA keys its warnings
  const geocode = ars ? `      <geocode>\n${el('valueName', 'ARS', '        ')}${el('value', ars, '        ')}      </geocode>\n` : '';
  return `    <area>\n${el('areaDesc', `${device.name} (${alarm.deviceId})`, '      ')}${circle}${geocode}    </area>\n`;
}

const round = (x: number) => Number(x.toFixed(5)).toString();

export interface CapFeedEntry {
  alarm: Alarm;
  identifier: string;
  sent: Date;
  /** where the entry's CAP document is served */
  xmlUrl: string;
  title: string;
}

/** Atom feed of the open alarms' latest CAP documents, the way DWD and MoWaS consumers poll them. */
export function capAtomFeed(entries: CapFeedEntry[], feed: { selfUrl: string; updated: Date }): string {
  const body = entries
    .map(
      (e) =>
        '  <entry>\n' +
        el('id', `urn:regenwacht:cap:${encodeURIComponent(e.identifier)}`, '    ') +
        el('title', e.title, '    ') +
        el('updated', e.sent.toISOString(), '    ') +
        el('summary', `${CAP_SEVERITY[e.alarm.severity]}: ${e.title}`, '    ') +
        `    <category term="${esc(CAP_SEVERITY[e.alarm.severity])}" scheme="${CAP_NS}#severity"/>\n` +
        `    <link rel="alternate" type="application/cap+xml" href="${esc(e.xmlUrl)}"/>\n` +
        '  </entry>\n',
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<feed xmlns="http://www.w3.org/2005/Atom">\n' +
    el('id', feed.selfUrl, '  ') +
    el('title', 'Regenwacht: aktuelle Warnungen (CAP 1.2)', '  ') +
    el('updated', feed.updated.toISOString(), '  ') +
    '  <author><name>Regenwacht</name></author>\n' +
    `  <link rel="self" type="application/atom+xml" href="${esc(feed.selfUrl)}"/>\n` +
    body +
    '</feed>\n'
  );
}
