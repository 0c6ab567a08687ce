// German wording of a measurement, shared by SMS and CAP so both say the same thing.
import type { Alarm, ClosedReason } from '../types.ts';

/** Why an alarm was closed, for "BEENDET (…)" in SMS and CAP: a change of configuration, not an all-clear. */
export const CLOSED_WORDS: Record<ClosedReason, string> = {
  rule_disabled: 'Regel abgeschaltet',
  rule_deleted: 'Regel gelöscht',
  rule_changed: 'Regel geändert',
  device_deleted: 'Messstelle gelöscht',
};

type AlarmFigures = Pick<Alarm, 'metric' | 'value' | 'threshold' | 'unit' | 'window'>;

const num = (digits: number) =>
  new Intl.NumberFormat('de-DE', { maximumFractionDigits: digits, useGrouping: false });
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

export type Hazard = 'rain' | 'water' | 'offline' | 'other';

export function hazardOf(a: Pick<Alarm, 'metric' | 'unit'>): Hazard {
  if (isOffline(a)) return 'offline';
  if (a.metric === 'rain_mm') return 'rain';
  if (a.metric === 'level_cm' || a.metric === 'distance_mm' || a.metric === 'pressure_bar') return 'water';
  return 'other';
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
  if (a.metric === 'level_cm' && w) return { what: `Pegelanstieg ${v} in ${w}`, threshold };
  const word = METRIC_WORDS[a.metric] ?? a.metric;
  return { what: `${word} ${v}${w ? ` in ${w}` : ''}`, threshold };
}
