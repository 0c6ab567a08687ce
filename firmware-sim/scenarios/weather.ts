// Scenarios that follow from rain: dry weather and the Euler II design storm, both with a level response.
import type { Rng } from '../prng.ts';
import { cumulativeAt } from './euler2.ts';
import { interpolate, levelParamsFor, levelSeries } from './level-response.ts';
import { MIN, type Scenario } from './types.ts';

/** Scenario from a storm hyetograph (5-min blocks; empty = dry) over a span that may extend past it. */
export function rainScenario(name: string, blocks: number[], spanMs: number, devices: number, rng: Rng, describe: string): Scenario {
  const rainCum = (minute: number): number => cumulativeAt(blocks, minute);
  const spanMin = Math.ceil(spanMs / MIN);
  const levels = Array.from({ length: devices }, (_, d) => {
    const r = rng.fork(`level-${d}`);
    const p = levelParamsFor(r);
    // dry baseline wanders a few millimetres so level sensors are not flat lines
    const drift = r.normal(0, 0.5);
    return levelSeries(rainCum, spanMin + 1, p).map((v, m) => v + (drift * m) / Math.max(1, spanMin));
  });
  return {
    name,
    spanMs,
    describe,
    truth: (d, offsetMs) => ({
      rainCumMm: rainCum(offsetMs / MIN),
      levelCm: interpolate(levels[d], offsetMs / MIN),
    }),
  };
}

export function dryScenario(spanMs: number, devices: number, rng: Rng): Scenario {
  return rainScenario('dry', [], spanMs, devices, rng, `dry weather, ${Math.round(spanMs / MIN)} min`);
}
