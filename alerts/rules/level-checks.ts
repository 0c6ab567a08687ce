// Cross-level checks: every level must be able to decide the alarm at least sometimes. [docs/api.md Rules]
// "Highest severity whose condition holds wins", so a lower level whose condition implies a higher
// level's condition can never win; that is a configuration mistake worth a 400, not a silent no-op.
import { type Severity, severityRank } from '../types.ts';
import type { Comparison, RuleKind } from './rule-types.ts';

export interface LevelLike {
  severity: Severity;
  window?: string;
  windowMs: number;
  threshold: number;
  /** a confirming condition: a level with one can hold where one without cannot */
  and?: { metric: string; kind: string; windowMs: number; threshold: number; tag: string };
}

export interface LevelIssue {
  index: number;
  field: 'severity' | 'threshold' | 'window';
  message: string;
}

/** How a level's value moves as its window grows: sums of non-negative rain and the rise over a
 *  longer window only grow; the fall (last − max, for rate/below) only grows more negative. */
function windowTrend(kind: RuleKind, comparison: Comparison): 1 | -1 | 0 {
  if (kind === 'accumulation') return 1;
  if (kind === 'rate') return comparison === 'above' ? 1 : -1;
  return 0;
}

/** True when `hi` holds whenever `lo` holds. */
function implies(kind: RuleKind, cmp: Comparison, lo: LevelLike, hi: LevelLike): boolean {
  // hi also needs its confirming condition: lo can fire while that is missing (unless lo needs the same)
  if (hi.and && JSON.stringify(hi.and) !== JSON.stringify(lo.and)) return false;
  if (kind === 'offline') return hi.windowMs <= lo.windowMs; // silence ≥ lo.window implies ≥ hi.window
  const stricterOrEqual = cmp === 'above' ? hi.threshold <= lo.threshold : hi.threshold >= lo.threshold;
  if (!stricterOrEqual) return false;
  if (hi.windowMs === lo.windowMs) return true;
  const trend = windowTrend(kind, cmp);
  if (trend === 0) return false;
  // The value over hi's window is at least as extreme (in the firing direction) as over lo's.
  const sign = cmp === 'above' ? 1 : -1;
  return trend * sign * (hi.windowMs - lo.windowMs) > 0;
}

const label = (l: LevelLike) => (l.window ? `${l.severity}/${l.window}` : l.severity);

function describe(kind: RuleKind, cmp: Comparison, l: LevelLike): string {
  if (kind === 'offline') return `${label(l)} (silent for ${l.window})`;
  return `${label(l)} (${cmp === 'above' ? '≥' : '≤'} ${l.threshold})`;
}

export function checkLevels(kind: RuleKind, cmp: Comparison, levels: LevelLike[]): LevelIssue[] {
  const issues: LevelIssue[] = [];
  levels.forEach((lo, i) => {
    let reported = false; // one "can never fire" per level is enough to act on
    levels.forEach((other, j) => {
      if (j === i) return;
      if (other.severity === lo.severity && other.windowMs === lo.windowMs && JSON.stringify(other.and) === JSON.stringify(lo.and)) {
        if (j < i) issues.push({ index: i, field: 'severity', message: `duplicate level: ${label(lo)} is already defined by levels.${j}` });
        return;
      }
      if (severityRank(other.severity) <= severityRank(lo.severity)) return;
      if (reported || !implies(kind, cmp, lo, other)) return;
      reported = true;
      const field = kind === 'offline' ? 'window' : 'threshold';
      const fix = kind === 'offline' ? 'a higher severity needs a longer window' : 'a higher severity needs a stricter threshold';
      issues.push({ index: i, field, message: `level ${describe(kind, cmp, lo)} can never fire: ${describe(kind, cmp, other)} always holds first; ${fix}` });
    });
  });
  return issues;
}
