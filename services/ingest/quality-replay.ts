// Stored readings as live evaluation saw them, for a backtest: the quality filter is replayed over each level
// series, so a step it held until the next reading confirmed it is evaluated when that reading arrived (one
// sample late, as live) and a blip it refuted is never evaluated. [docs/warning-logic.md Backtest]
import type { Reading } from '../../alerts/types.ts';
import type { Params } from './derive.ts';
import { QualityFilter, SEEDED_METRICS } from './quality.ts';

/** metrics whose quality depends on the readings before them in a way a stored flag cannot replay */
const HELD_METRICS = new Set(SEEDED_METRICS.filter((m) => m !== 'rain_mm'));

export type EvaluatedReading = Reading & { at: number };

/** `readings` in time order as stored; returns them with the time live evaluation saw each one (`at`). A reading
 *  of a metric the filter does not hold that already carries `at` = its time is passed on as it is (no copy). */
export function asEvaluatedLive(readings: (Reading & { at?: number })[], params: (deviceId: string) => Params): EvaluatedReading[] {
  const filter = new QualityFilter();
  const out: EvaluatedReading[] = [];
  let inOrder = true;
  for (let i = 1; i < readings.length && inOrder; i++) inOrder = readings[i - 1].time <= readings[i].time;
  for (const r of inOrder ? readings : [...readings].sort((a, b) => a.time - b.time)) {
    if (!HELD_METRICS.has(r.metric)) {
      out.push(r.at === r.time ? (r as EvaluatedReading) : { ...r, at: r.time });
      continue;
    }
    const q = filter.judge(r.deviceId, r.metric, r.time, r.value, params(r.deviceId));
    if (q.released) out.push({ deviceId: r.deviceId, metric: r.metric, time: q.released.time, value: q.released.value, quality: 0, at: r.time });
    out.push({ ...r, quality: q.flags, at: r.time });
  }
  return out;
}
