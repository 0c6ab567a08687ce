// Euler type II design storm (DWA-A 118 / docs/reference/domain.md §3.3): 5-min blocks from KOSTRA depth increments,
// peak at about one third of the duration.
import { depthsEvery5Min, type KostraTable } from './kostra.ts';

export const BLOCK_MIN = 5;

/** Euler I: increments hN(k) − hN(k−1) in their natural (decreasing) order, peak first. */
export function eulerIBlocks(depths: number[]): number[] {
  return depths.map((h, i) => h - (i === 0 ? 0 : depths[i - 1]));
}

/** Euler II: the first round(1 + 0.3·(n−1)) Euler I blocks re-sorted ascending, the rest unchanged. */
export function eulerIIBlocks(depths: number[]): number[] {
  const e1 = eulerIBlocks(depths);
  const k = Math.round(1 + 0.3 * (e1.length - 1));
  return [...e1.slice(0, k).sort((a, b) => a - b), ...e1.slice(k)];
}

export function designStorm(table: KostraTable, T: number, Dmin: number, cellName?: string): number[] {
  return eulerIIBlocks(depthsEvery5Min(table, T, Dmin, cellName));
}

/** Cumulative storm depth [mm] at `minutes` after storm start; rain falls evenly within each block. */
export function cumulativeAt(blocks: number[], minutes: number): number {
  if (minutes <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < blocks.length; i++) {
    const start = i * BLOCK_MIN;
    if (minutes >= start + BLOCK_MIN) sum += blocks[i];
    else return sum + (blocks[i] * (minutes - start)) / BLOCK_MIN;
  }
  return sum;
}
