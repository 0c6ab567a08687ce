// Seeded PRNG so a seed reproduces the same payload sequence (mulberry32: tiny, fast, good enough for noise).
import { createHash } from 'node:crypto';

export interface Rng {
  next(): number; // [0, 1)
  int(lo: number, hi: number): number; // inclusive
  normal(mean?: number, sd?: number): number;
  fork(label: string): Rng;
}

export function seedToInt(seed: string | number): number {
  const h = createHash('sha256').update(String(seed)).digest();
  return h.readUInt32BE(0);
}

export function createRng(seed: string | number): Rng {
  let a = seedToInt(seed);
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    normal: (mean = 0, sd = 1) => {
      // Box-Muller; 1 - next() avoids log(0)
      const u = 1 - next();
      const v = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    // Independent streams per device/purpose keep one device's faults from shifting another's noise.
    fork: (label) => createRng(`${seed}/${label}`),
  };
}

/** Deterministic RFC 4122 v4-shaped UUID from arbitrary parts (same inputs → same id, different runs differ by time). */
export function uuidFrom(...parts: Array<string | number>): string {
  const h = createHash('sha256').update(parts.join('|')).digest();
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
