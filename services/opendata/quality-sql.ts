// Which stored quality values are published: those the rules evaluate (no out-of-range, dead-zone, spike or
// gradient bit), listed as values. `quality in (0, 16)` is planned from the column's statistics, whereas
// `(quality & 15) = 0` is guessed at 0.5 % of the rows — which made PostgreSQL sort a whole year instead of
// reading 1 000 index entries (docs/benchmarks.md, open data).
import { NOT_EVALUATED, Quality } from '../../alerts/types.ts';

const informational = Object.values(Quality).filter((bit) => bit !== 0 && (bit & NOT_EVALUATED) === 0);

/** Every combination of the informational bits (today 0 and CLOCK_SKEW). */
function combinations(bits: number[]): number[] {
  const out = [0];
  for (const bit of bits) for (const q of out.slice()) out.push(q | bit);
  return out.sort((a, b) => a - b);
}
export const EVALUATED_QUALITIES: readonly number[] = combinations(informational);
