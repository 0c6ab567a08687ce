// Stream level response to rain: a lagged linear reservoir (runoff) with a power-law rating curve
// (stage ∝ discharge^0.6), so the level rises some time after the rain and recedes slowly.
import type { Rng } from '../prng.ts';

export interface LevelParams {
  baseCm: number;
  lagMin: number;
  /** reservoir constant: larger = slower rise and recession */
  kMin: number;
  /** cm of rise at 1 mm/h runoff */
  gainCm: number;
}

export function levelParamsFor(rng: Rng): LevelParams {
  return { baseCm: 15 + rng.next() * 25, lagMin: 15 + rng.int(0, 10), kMin: 25 + rng.int(0, 15), gainCm: 12 + rng.next() * 6 };
}

/**
 * Level per simulated minute for `minutes` minutes, given cumulative rain per minute (rainCum(m) in mm).
 * Outflow q [mm/h] of the reservoir S: dS/dt = i(t − lag) − S/k.
 */
export function levelSeries(rainCum: (minute: number) => number, minutes: number, p: LevelParams): number[] {
  const out: number[] = [];
  let storage = 0; // mm
  for (let m = 0; m <= minutes; m++) {
    const t = m - p.lagMin;
    const inflow = t < 1 ? 0 : rainCum(t) - rainCum(t - 1); // mm in this minute
    storage += inflow;
    const q = storage / p.kMin; // mm per minute leaving
    storage -= q;
    out.push(p.baseCm + p.gainCm * (q * 60) ** 0.6);
  }
  return out;
}

export function interpolate(series: number[], minute: number): number {
  if (minute <= 0) return series[0];
  const i = Math.floor(minute);
  if (i >= series.length - 1) return series[series.length - 1];
  return series[i] + (series[i + 1] - series[i]) * (minute - i);
}
