// Shared domain types. The warning domain (alerts/) is pure: readings in, transitions out.

export const SEVERITIES = ['minor', 'moderate', 'severe', 'extreme'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);
export const isSeverity = (s: unknown): s is Severity => (SEVERITIES as readonly unknown[]).includes(s);

/** Quality bit flags kept with each reading. 0 = good. Flagged readings are stored but never evaluated,
 *  except CLOCK_SKEW: the device's clock was off, and the reading was re-stamped with the receive time. */
export const Quality = {
  GOOD: 0,
  OUT_OF_RANGE: 1,
  DEAD_ZONE: 2,
  SPIKE: 4,
  GRADIENT: 8,
  CLOCK_SKEW: 16,
} as const;

/** The bits that keep a reading from the rules (all but the informational CLOCK_SKEW). */
export const NOT_EVALUATED = Quality.OUT_OF_RANGE | Quality.DEAD_ZONE | Quality.SPIKE | Quality.GRADIENT;
/** SQL condition on `quality` for readings the rules evaluate. */
export const EVALUATED_SQL = `(quality & ${NOT_EVALUATED}) = 0`;
export const isEvaluated = (quality: number): boolean => (quality & NOT_EVALUATED) === 0;

/** Names of the set quality bits, for people reading the API (e.g. 12 → ["spike", "gradient"]). */
export function qualityFlags(q: number): string[] {
  return Object.entries(Quality)
    .filter(([, bit]) => bit !== 0 && (q & bit) !== 0)
    .map(([name]) => name.toLowerCase());
}

export interface Reading {
  deviceId: string;
  metric: string;
  /** epoch milliseconds */
  time: number;
  value: number;
  quality: number;
}

export interface DeviceInfo {
  id: string;
  name: string;
  tags: Record<string, string>;
  location?: { lat: number; lon: number } | null;
}

/** `stale`: the device of an open alarm went silent; the alarm holds (no de-escalation, no all-clear). */
export type TransitionKind = 'firing' | 'escalated' | 'deescalated' | 'resolved' | 'closed' | 'stale';

/** Why an alarm ended without an all-clear: its configuration changed, not the water. [docs/api.md Alarms] */
export const CLOSED_REASONS = ['rule_disabled', 'rule_deleted', 'rule_changed', 'device_deleted', 'device_changed'] as const;
export type ClosedReason = (typeof CLOSED_REASONS)[number];

/** What the rule engine emits; the alarm store turns it into rows, events and outbox entries. */
export interface Transition {
  kind: TransitionKind;
  ruleId: string;
  deviceId: string;
  metric: string;
  severity: Severity;
  previousSeverity?: Severity;
  /** the value that made the condition hold (sum for accumulation, change for rate, last value, or silence seconds for offline) */
  value: number;
  threshold: number;
  /** the level's window, e.g. "1h"; undefined for threshold rules */
  window?: string;
  /** epoch ms of the reading/tick that caused it */
  at: number;
  mode: 'active' | 'shadow';
  /** kind 'firing': the reading time at which the condition began (≤ at; later with a late reading's own time) */
  since?: number;
  /** kind 'closed' only */
  closedReason?: ClosedReason;
  /** `stale`: the time of the device's last reading */
  lastReadingAt?: number;
}

/** `closed`: ended by a change of configuration, never an all-clear. [docs/api.md Alarms] */
export type AlarmState = 'firing' | 'acknowledged' | 'resolved' | 'closed';
/** states of an alarm that has ended; everything else is open */
export const ENDED_STATES: readonly AlarmState[] = ['resolved', 'closed'];

export interface Alarm {
  id: string;
  ruleId: string;
  ruleName: string;
  deviceId: string;
  metric: string;
  severity: Severity;
  state: AlarmState;
  value: number;
  threshold: number;
  unit: string;
  window?: string | null;
  mode: 'active' | 'shadow';
  startedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  closedAt?: string | null;
  closedReason?: ClosedReason | null;
}

/** Own keys only: 'constructor', '__proto__' or 'toString' are not metrics. [issue 11] */
export const isMetric = (m: string): boolean => Object.hasOwn(METRIC_UNITS, m);
export const unitOf = (m: string): string | undefined => (isMetric(m) ? METRIC_UNITS[m] : undefined);

export const METRIC_UNITS: Record<string, string> = {
  rain_mm: 'mm',
  level_cm: 'cm',
  distance_mm: 'mm',
  pressure_bar: 'bar',
  battery_v: 'V',
  battery_pct: '%',
  temperature_c: '°C',
  rssi_dbm: 'dBm',
  snr_db: 'dB',
  // the DWD warning level (0 none, 1–4) in force for a municipality, from the DWD's CAP warnings [docs/dwd.md]
  dwd_warning_level: 'Stufe',
  dwd_starkregen_level: 'Stufe',
  dwd_dauerregen_level: 'Stufe',
  // the DWD radar nowcast (RV) over a catchment, from the run's base time on [docs/dwd.md]
  forecast_30min_mm: 'mm',
  forecast_60min_mm: 'mm',
  forecast_120min_mm: 'mm',
  forecast_peak_mm_h: 'mm/h',
  forecast_minutes_to_threshold: 'min',
  forecast_missing_pct: '%',
};
