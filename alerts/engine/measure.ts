// Computes each level's value at time t and which ranks hold. Values are signed (sign · value) in
// integer micro-units, or milliseconds of silence for offline rules, so every check is one "≥".

import { INTENSITY_LOOKBACK_MS } from '../rules/rule-types.ts';
import type { LevelOutcome } from './alarm-state.ts';
import type { CompiledLevel, CompiledRule } from './compiled-rule.ts';
import { fromMicro, type Series } from './windows.ts';

export interface Measurement extends LevelOutcome {
  /** aligned with cr.levels; undefined = no data for that level */
  signed: (number | undefined)[];
}

/** rate: change over the closed window [t − w, t]: last − min (above) or last − max (below).
 *  Level readings are instantaneous samples, so the sample exactly w ago is a valid baseline; where no sample
 *  lies there (a radio gap), the level at t − w interpolated between the samples around it counts as one too,
 *  so a rise across a gap longer than the window is measured instead of being zero. */
function rateMicro(s: Series, cr: CompiledRule, t: number, w: number): number | undefined {
  const last = s.lastMicro(t);
  if (!last || last.time < t - w) return undefined; // nothing in the window: no rise to speak of
  const ext = s.extremeMicro(cr.sign > 0 ? 'min' : 'max', t, w + 1);
  if (ext === undefined) return undefined;
  const start = s.interpolatedMicro(t - w);
  const base = start === undefined ? ext : cr.sign > 0 ? Math.min(ext, start) : Math.max(ext, start);
  return last.micro - base;
}

function levelMicro(cr: CompiledRule, l: CompiledLevel, s: Series | undefined, t: number): number | undefined {
  if (!s) return cr.rule.kind === 'accumulation' ? 0 : undefined;
  switch (cr.rule.kind) {
    case 'threshold':
    case 'dwd_warning': // the level in force is the latest value of the municipality's DWD warning device
      return s.lastMicro(t)?.micro;
    case 'accumulation':
      return cr.capMicroPerHour === undefined ? s.sumMicro(t, l.windowMs) : s.cappedSumMicro(t, l.windowMs, cr.capMicroPerHour, INTENSITY_LOOKBACK_MS);
    default:
      return rateMicro(s, cr, t, l.windowMs);
  }
}

/** Whether a level's confirming condition (`and`) holds now; levels without one always pass. */
export type Confirms = (l: CompiledLevel) => boolean;

/** A level with a confirming condition needs it to enter, not to stay: the gauge confirmed the forecast once,
 *  and the alarm then lasts as long as the forecast does (with its hysteresis). [docs/warning-logic.md] */
function outcome(cr: CompiledRule, signed: (number | undefined)[], active: boolean, confirms?: Confirms): Measurement {
  let entryRank = -1;
  let holdRank = -1;
  if (active) {
    cr.levels.forEach((l, i) => {
      const v = signed[i];
      if (v === undefined) return;
      if (v >= l.enter && l.rank > entryRank && (!l.and || (confirms?.(l) ?? false))) entryRank = l.rank;
      if (v >= l.hold && l.rank > holdRank) holdRank = l.rank;
    });
  }
  return { entryRank, holdRank, signed };
}

/** `active` false (rule disabled, device out of scope) makes nothing hold, so open alarms clear. */
export function measure(cr: CompiledRule, s: Series | undefined, t: number, active: boolean, confirms?: Confirms): Measurement {
  const signed = cr.levels.map((l) => {
    const m = levelMicro(cr, l, s, t);
    return m === undefined ? undefined : cr.sign * m;
  });
  return outcome(cr, signed, active, confirms);
}

export function measureOffline(cr: CompiledRule, silenceMs: number, active: boolean): Measurement {
  return outcome(
    cr,
    cr.levels.map(() => silenceMs),
    active,
  );
}

/** The level of `rank` closest to (or furthest past) its threshold: the one that decided. */
export function decidingLevel(cr: CompiledRule, m: Measurement, rank: number): { level: CompiledLevel; value: number; index: number } {
  let best = -1;
  let margin = -Infinity;
  cr.levels.forEach((l, i) => {
    if (l.rank !== rank) return;
    const d = (m.signed[i] ?? -Infinity) - l.enter;
    if (best < 0 || d > margin) [best, margin] = [i, d];
  });
  return levelAt(cr, m, Math.max(best, 0));
}

/** Level `index` with its own window's value now. */
export function levelAt(cr: CompiledRule, m: Measurement, index: number): { level: CompiledLevel; value: number; index: number } {
  const level = cr.levels[index];
  const raw = cr.sign * (m.signed[index] ?? 0);
  return { level, value: cr.rule.kind === 'offline' ? raw / 1000 : fromMicro(raw), index };
}
