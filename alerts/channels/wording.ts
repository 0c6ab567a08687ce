// German wording of a measurement, shared by SMS and CAP so both say the same thing.
import { tryParseDuration } from '../rules/duration.ts';
import type { Alarm, ClosedReason, Severity } from '../types.ts';

/** Why an alarm was closed, for "BEENDET (…)" in SMS and CAP: a change of configuration, not an all-clear. */
export const CLOSED_WORDS: Record<ClosedReason, string> = {
  rule_disabled: 'Regel abgeschaltet',
  rule_deleted: 'Regel gelöscht',
  rule_changed: 'Regel geändert',
  device_deleted: 'Messstelle gelöscht',
  device_changed: 'Messstelle geändert',
};

type AlarmFigures = Pick<Alarm, 'metric' | 'value' | 'threshold' | 'unit' | 'window'>;

const num = (digits: number) => new Intl.NumberFormat('de-DE', { maximumFractionDigits: digits, useGrouping: false });
const fine = num(2);
const coarse = num(1);

/** Decimal comma, at most one decimal (two below 10), exponent for absurd values so an SMS stays short. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1e9) return v.toExponential(2).replace('.', ',');
  return (abs < 10 ? fine : coarse).format(v);
}

/** "1h" → "1 h", "15m" → "15 min", "2d" → "2 d". */
export function formatWindow(w: string | null | undefined): string {
  if (!w) return '';
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)$/.exec(w.trim());
  if (!m) return w;
  const unit = { s: 's', m: 'min', min: 'min', h: 'h', d: 'd' }[m[2] as 's' | 'm' | 'min' | 'h' | 'd'];
  return `${m[1].replace('.', ',')} ${unit}`;
}

const UNIT_WORDS: Record<string, string> = { '°C': 'Grad' };
const unitWord = (u: string) => UNIT_WORDS[u] ?? u;

const METRIC_WORDS: Record<string, string> = {
  rain_mm: 'Regen',
  level_cm: 'Pegel',
  distance_mm: 'Abstand',
  pressure_bar: 'Druck',
  battery_v: 'Batterie',
  battery_pct: 'Batterie',
  temperature_c: 'Temperatur',
  rssi_dbm: 'RSSI',
  snr_db: 'SNR',
};

/**
 * Offline rules carry the silence in seconds as value. [docs/api.md Rules "offline"]
 * The alarm does not name the rule kind, so the unit "s" (or metric "offline") marks them.
 */
export function isOffline(a: Pick<Alarm, 'metric' | 'unit'>): boolean {
  return a.unit === 's' || a.metric === 'offline';
}

/** rain: accumulation; water: a gauge level; rise: a rate rule (change over a window); offline: silence. */
/** dwd: a warning of the Deutscher Wetterdienst itself (rule kind dwd_warning), named as such in every message. */
export type Hazard = 'rain' | 'water' | 'rise' | 'offline' | 'dwd' | 'other';

/** the DWD's open data are CC BY 4.0: whatever is built from them names the source [docs/dwd.md] */
export const DWD_ATTRIBUTION = 'Datenbasis: Deutscher Wetterdienst (CC BY 4.0)';

/** the attribution an alarm's messages carry: the DWD's for its radar nowcast and warning metrics */
export function attributionOf(a: Pick<Alarm, 'metric'>): string | undefined {
  return a.metric.startsWith('forecast_') || a.metric.startsWith('dwd_') ? DWD_ATTRIBUTION : undefined;
}

/** the radar nowcast's expected depth over a catchment, e.g. forecast_60min_mm [docs/dwd.md Radar nowcast] */
const FORECAST_MM = /^forecast_(\d+)min_mm$/;

/** an alarm on the radar nowcast (forecast_* metrics of a catchment's virtual device): a forecast, not a measurement */
export function isForecast(a: Pick<Alarm, 'metric'>): boolean {
  return a.metric.startsWith('forecast_');
}

type HazardFigures = Pick<Alarm, 'metric' | 'unit'> & { window?: string | null };
const WATER_METRICS = new Set(['level_cm', 'distance_mm', 'pressure_bar']);

export function hazardOf(a: HazardFigures): Hazard {
  if (isOffline(a)) return 'offline';
  if (a.metric === 'rain_mm') return 'rain';
  if (a.metric.startsWith('dwd_')) return 'dwd';
  if (FORECAST_MM.test(a.metric)) return 'rain';
  // a window on anything but rain is a rate rule: threshold rules take none, accumulation sums only rain
  if (a.window) return 'rise';
  if (WATER_METRICS.has(a.metric)) return 'water';
  return 'other';
}

// [DWD Warnstufen 1–4] mapped onto CAP severities. [docs/api.md Alarms]
export const SEVERITY_WORDS: Record<Severity, string> = {
  minor: 'HINWEIS Stufe 1',
  moderate: 'WARNUNG Stufe 2',
  severe: 'UNWETTER Stufe 3',
  extreme: 'EXTREMES UNWETTER Stufe 4',
};

// A gauge alarm speaks the language of the flood warning service (Hessian Meldestufen I–III, as the
// pegel-meldestufen preset maps them), not of the DWD weather warnings. [HLNUG Meldestufen]
export const WATER_WORDS: Record<Severity, string> = {
  minor: 'HOCHWASSER Vorwarnung',
  moderate: 'HOCHWASSER Meldestufe I',
  severe: 'HOCHWASSER Meldestufe II',
  extreme: 'HOCHWASSER Meldestufe III',
};
const OTHER_WORDS: Record<Severity, string> = { minor: 'ALARM Stufe 1', moderate: 'ALARM Stufe 2', severe: 'ALARM Stufe 3', extreme: 'ALARM Stufe 4' };

// The DWD's own event names (CAP `event`, DWD CAP profile II codes 61–66): Starkregen for 1–6 h sums,
// Dauerregen for 12–72 h. Stufe 1 has no DWD rain event; it borrows the Stufe 2 name. [DWD Warnkriterien]
const STARKREGEN: Record<Severity, string> = {
  minor: 'STARKREGEN',
  moderate: 'STARKREGEN',
  severe: 'HEFTIGER STARKREGEN',
  extreme: 'EXTREM HEFTIGER STARKREGEN',
};
const DAUERREGEN: Record<Severity, string> = {
  minor: 'DAUERREGEN',
  moderate: 'DAUERREGEN',
  severe: 'ERGIEBIGER DAUERREGEN',
  extreme: 'EXTREM ERGIEBIGER DAUERREGEN',
};
const DAUERREGEN_FROM_MS = 12 * 3_600_000;

/** The DWD event of a rain alarm, from the window that decided: so a gauge watched by both the Starkregen and
 *  the Dauerregen preset says in every message which of the two it is. */
export function rainEvent(a: Pick<Alarm, 'severity'> & { window?: string | null }): string {
  const ms = tryParseDuration(a.window ?? '') ?? 0;
  return (ms >= DAUERREGEN_FROM_MS ? DAUERREGEN : STARKREGEN)[a.severity];
}

/** What a rate rule watches rising, in one word ("PEGELANSTIEG"). */
function riseWord(metric: string): string {
  return WATER_METRICS.has(metric) ? 'PEGELANSTIEG' : `ANSTIEG ${(METRIC_WORDS[metric] ?? metric).toUpperCase()}`;
}

/** The level words of an alarm, never shortened: "UNWETTER Stufe 3", "HOCHWASSER Meldestufe II", "PEGELANSTIEG". */
export function severityWords(a: HazardFigures & { severity: Severity }): string {
  const h = hazardOf(a);
  if (h === 'rain' || h === 'dwd') return SEVERITY_WORDS[a.severity];
  if (h === 'water') return WATER_WORDS[a.severity];
  if (h === 'rise') return riseWord(a.metric);
  if (h === 'offline') return `SENSORAUSFALL (${OTHER_WORDS[a.severity].slice(6)})`;
  return OTHER_WORDS[a.severity];
}

/** The event name that follows the level words, where the hazard has one (rain: the DWD event). */
export function eventWords(a: HazardFigures & { severity: Severity }): string {
  const h = hazardOf(a);
  if (h === 'dwd') return dwdEvent(a);
  return h === 'rain' ? rainEvent(a) : '';
}

/** The DWD's event name for a dwd_warning alarm: by the metric the rule reads (Starkregen or Dauerregen). */
function dwdEvent(a: Pick<Alarm, 'metric' | 'severity'>): string {
  if (a.metric === 'dwd_dauerregen_level') return `DWD ${DAUERREGEN[a.severity]}`;
  if (a.metric === 'dwd_starkregen_level') return `DWD ${STARKREGEN[a.severity]}`;
  return 'DWD-WARNUNG REGEN';
}

/** One title for SMS, webhook `title` and CAP headline: "UNWETTER Stufe 3: HEFTIGER STARKREGEN". */
export function alarmTitle(a: HazardFigures & { severity: Severity }): string {
  const e = eventWords(a);
  return e ? `${severityWords(a)}: ${e}` : severityWords(a);
}

/** The measurement ("28,8 mm Regen in 1 h") and, separately, the threshold ("(Schwelle 25 mm)"). */
export function metricPhrase(a: AlarmFigures): { what: string; threshold: string } {
  const w = formatWindow(a.window);
  const unit = unitWord(a.unit);
  const v = `${formatNumber(a.value)} ${unit}`.trim();
  const threshold = `(Schwelle ${formatNumber(a.threshold)} ${unit})`.replace(' )', ')');
  if (isOffline(a)) {
    return { what: `keine Daten seit ${formatNumber(Math.round(a.value / 60))} min`, threshold: '' };
  }
  if (a.metric === 'rain_mm') return { what: `${v} Regen${w ? ` in ${w}` : ''}`, threshold };
  // the source first, so a shortened SMS keeps it: "Radarvorhersage DWD: 28 mm in 60 min erwartet"
  const fc = FORECAST_MM.exec(a.metric);
  if (fc) return { what: `Radarvorhersage DWD: ${v} in ${fc[1]} min erwartet`, threshold };
  // the source is named in the text itself, so a shortened SMS keeps it
  if (a.metric.startsWith('dwd_')) return { what: `amtliche Warnung des Deutschen Wetterdienstes, Stufe ${formatNumber(a.value)}`, threshold: '' };
  // a rate rule's own words: "PEGELANSTIEG 30 cm in 1 h" (the title says what rises)
  if (w) return { what: `${v} in ${w}`, threshold };
  const word = METRIC_WORDS[a.metric] ?? a.metric;
  return { what: `${word} ${v}`, threshold };
}

/** An all-clear states the deciding level's own figure now, next to its own threshold:
 *  "1-h-Summe jetzt 3,2 mm (Schwelle 15 mm)", "Pegel jetzt 540 cm", "Anstieg beendet, jetzt 2 cm in 1 h". */
export function endedPhrase(a: AlarmFigures): { what: string; threshold: string } {
  const m = metricPhrase(a);
  const v = `${formatNumber(a.value)} ${unitWord(a.unit)}`.trim();
  const w = formatWindow(a.window);
  if (isOffline(a)) return { what: 'wieder Daten', threshold: '' };
  if (a.metric.startsWith('dwd_'))
    return {
      what: a.value > 0 ? `Warnung des Deutschen Wetterdienstes jetzt Stufe ${formatNumber(a.value)}` : 'keine Warnung des Deutschen Wetterdienstes mehr',
      threshold: '',
    };
  if (a.metric === 'rain_mm' && w) return { what: `${w.replace(' ', '-')}-Summe jetzt ${v}`, threshold: m.threshold };
  const fc = FORECAST_MM.exec(a.metric);
  if (fc) return { what: `Radarvorhersage DWD jetzt ${v} in ${fc[1]} min`, threshold: m.threshold };
  if (w) return { what: `Anstieg beendet, jetzt ${v} in ${w}`, threshold: m.threshold };
  return { what: `${METRIC_WORDS[a.metric] ?? a.metric} jetzt ${v}`, threshold: m.threshold };
}
