// Durations as rules spell them: one integer and one unit ("30s", "5m", "1h", "6h", "2d").
// One unit only, so "1h30m" is rejected rather than guessed at; write "90m".

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d{1,7})(s|m|h|d)$/;

export const MINUTE_MS = UNIT_MS.m;
export const DAY_MS = UNIT_MS.d;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function tryParseDuration(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = DURATION_RE.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Milliseconds of a duration string; throws RangeError on anything else. */
export function parseDuration(s: string): number {
  const ms = tryParseDuration(s);
  if (ms === undefined) throw new RangeError(`bad duration "${s}": use a number and one unit s, m, h or d, e.g. "15m"`);
  return ms;
}

/** Shortest exact spelling of a duration, e.g. 3_600_000 → "1h" (used in transitions and presets). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
