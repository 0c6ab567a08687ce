// A rule prepared for the hot path: thresholds as signed integer micro-units, levels in decision order.

import { type Rule, type RuleLevel, ruleLookbackMs } from '../rules/rule-types.ts';
import { severityRank } from '../types.ts';
import { toMicro } from './windows.ts';

/** A threshold reading's value is "current" for this long; older backlog is stored but does not fire. */
export const THRESHOLD_LATE_MS = 60 * 60_000;
/** Kept beyond the longest window so late points near the window edge still land. */
const RETAIN_MARGIN_MS = 5 * 60_000;

export interface CompiledLevel extends RuleLevel {
  rank: number;
  /** entry: sign·value ≥ enter; stays: sign·value ≥ hold (hold = enter − hysteresis) */
  enter: number;
  hold: number;
}

export interface CompiledRule {
  rule: Rule;
  /** highest severity first, shorter window first */
  levels: CompiledLevel[];
  /** distinct level ranks, ascending */
  ranks: number[];
  /** +1 above, −1 below: turns every comparison into "≥" */
  sign: 1 | -1;
  /** a reading older than now − horizon cannot change the outcome, so it triggers no evaluation */
  horizonMs: number;
  retainMs: number;
  deviceIds?: Set<string>;
  /** accumulation with intensityCap: micro-units of rain per hour a reading may count at most */
  capMicroPerHour?: number;
  /** metrics of the levels' confirming conditions (`and`), with how long their series must be kept */
  andMetrics: Map<string, number>;
}

function compileLevel(rule: Rule, sign: 1 | -1, l: RuleLevel): CompiledLevel {
  if (rule.kind === 'offline') return { ...l, rank: severityRank(l.severity), enter: l.windowMs, hold: l.windowMs };
  // strict: one micro-unit past the threshold, in the firing direction (signed values: every check is "≥")
  const enter = sign * toMicro(l.threshold) + (l.strict ? 1 : 0);
  return { ...l, rank: severityRank(l.severity), enter, hold: enter - toMicro(rule.clear.hysteresis) };
}

export function compileRule(rule: Rule): CompiledRule {
  const sign = rule.comparison === 'below' ? -1 : 1;
  const levels = rule.levels.map((l) => compileLevel(rule, sign, l)).sort((a, b) => b.rank - a.rank || a.windowMs - b.windowMs);
  const longest = Math.max(0, ...levels.map((l) => l.windowMs));
  const windowed = rule.kind === 'rate' || rule.kind === 'accumulation';
  const andMetrics = new Map<string, number>();
  for (const l of levels)
    if (l.and) andMetrics.set(l.and.metric, Math.max(andMetrics.get(l.and.metric) ?? 0, l.and.windowMs ? l.and.windowMs + 1 + RETAIN_MARGIN_MS : 0));
  return {
    andMetrics,
    rule,
    levels,
    ranks: [...new Set(levels.map((l) => l.rank))].sort((a, b) => a - b),
    sign,
    horizonMs: windowed ? longest : THRESHOLD_LATE_MS,
    // rate windows are closed at the start ([t − w, t]), hence + 1 ms
    // a capped sum also needs the reading before the window (its rain fell since that one)
    retainMs: windowed ? ruleLookbackMs(rule) + 1 + RETAIN_MARGIN_MS : 0,
    ...(rule.scope.deviceIds && { deviceIds: new Set(rule.scope.deviceIds) }),
    ...(rule.kind === 'accumulation' && rule.intensityCap !== undefined && { capMicroPerHour: toMicro(rule.intensityCap) }),
  };
}

export function inScope(cr: CompiledRule, deviceId: string, tags: Record<string, string> | undefined): boolean {
  // deviceIds and tags together narrow the scope (both must match), like route matchers do.
  if (cr.deviceIds && !cr.deviceIds.has(deviceId)) return false;
  const want = cr.rule.scope.tags;
  if (!want) return true;
  if (!tags) return false;
  for (const k in want) if (tags[k] !== want[k]) return false;
  return true;
}
