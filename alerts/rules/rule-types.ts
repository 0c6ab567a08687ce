// Normalised rule shape shared by the rule API and the engine. [docs/api.md Rules]
import type { Severity } from '../types.ts';

/** `dwd_warning`: the DWD's own warning level (0–4) in force for the municipality, read like a threshold
 *  rule from the municipality's DWD warning device. [docs/dwd.md Warnings] */
export const RULE_KINDS = ['threshold', 'rate', 'accumulation', 'offline', 'dwd_warning'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export type Comparison = 'above' | 'below';
export type RuleMode = 'active' | 'shadow';

export const PRESETS = ['dwd-starkregen', 'dwd-dauerregen', 'pegel-meldestufen'] as const;
export type PresetName = (typeof PRESETS)[number];

/** Offline rules watch every uplink of a device, not one metric; their transitions carry this metric. */
export const OFFLINE_METRIC = 'uplink';

export interface RuleScope {
  deviceIds?: string[];
  tags?: Record<string, string>;
}

/** A second condition a level needs before it can fire: a reading of another device of the same catchment (the
 *  devices sharing the alarm device's `tag`, default `catchment`) confirms what the rule's own metric says, e.g. a
 *  gauge that has measured ≥ 5 mm in 15 min under a radar forecast of ≥ 20 mm in 60 min. It gates entering the
 *  level, not staying in it. [docs/warning-logic.md Combined rules] */
export interface LevelCondition {
  metric: string;
  /** threshold: the latest value (of the last hour); accumulation: the rain sum over `window` */
  kind: 'threshold' | 'accumulation';
  window?: string;
  /** 0 for threshold */
  windowMs: number;
  threshold: number;
  /** the device tag whose value the confirming devices share with the alarm's device */
  tag: string;
}

export interface RuleLevel {
  severity: Severity;
  /** as given, e.g. "1h"; absent for threshold rules */
  window?: string;
  /** 0 for threshold rules */
  windowMs: number;
  /** offline rules: the window in seconds (what the transition reports next to the silence in seconds) */
  threshold: number;
  /** true: the value must be strictly past the threshold (DWD "> 25 mm"); false/absent: reaching it fires (≥ 15 mm) */
  strict?: boolean;
  /** the level fires only when this holds too (a forecast confirmed by a gauge) */
  and?: LevelCondition;
}

export interface RuleDefinition {
  name: string;
  kind: RuleKind;
  /** absent only for offline rules */
  metric?: string;
  comparison: Comparison;
  scope: RuleScope;
  /** sorted by severity, then window */
  levels: RuleLevel[];
  for: string;
  forMs: number;
  clear: { hysteresis: number; for: string; forMs: number };
  mode: RuleMode;
  enabled: boolean;
  /** silence after which an open alarm is held as stale; absent = 3 × the device's median uplink interval, ≥ 15 min */
  expectedInterval?: string;
  expectedIntervalMs?: number;
  /** accumulation only: rain falling faster than this (mm per hour) counts only at this rate toward the sums,
   *  so a single cloudburst (Starkregen) does not raise Dauerregen [docs/warning-logic.md] */
  intensityCap?: number;
  /** set when the rule was expanded from a preset */
  preset?: PresetName;
}

export type Rule = RuleDefinition & { id: string };

/** How far before a window's start a capped sum looks for the reading before it (the time that reading's rain
 *  fell over); a reading with nothing before it in this span counts as one hour's rain. */
export const INTENSITY_LOOKBACK_MS = 3_600_000;

/** How far back a rule needs stored readings: its longest window, plus the look-back of a capped sum. */
export function ruleLookbackMs(rule: Pick<RuleDefinition, 'levels' | 'intensityCap'>): number {
  const longest = Math.max(0, ...rule.levels.map((l) => Math.max(l.windowMs, l.and?.windowMs ?? 0)));
  return longest + (rule.intensityCap !== undefined ? INTENSITY_LOOKBACK_MS : 0);
}

export interface RuleIssue {
  path: string;
  message: string;
}

export type ParseRuleResult = { ok: true; rule: RuleDefinition } | { ok: false; issues: RuleIssue[] };
