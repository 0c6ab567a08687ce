// Derived metrics [docs/topics.md Canonical metrics]: rain_mm from tip counters, level_cm from distance or
// pressure. Pure functions plus a small per-device counter state; the pipeline owns persistence.
import type { DecodedCounter } from './codecs/types.ts';

export const DEFAULT_MM_PER_TIP = 0.2; // the common tipping-bucket resolution [docs/reference/domain.md 4.1]
/** cm of fresh water per bar of gauge pressure [docs/topics.md Canonical metrics: pressure_bar]. */
export const CM_PER_BAR = 1019.72;

export type Params = Record<string, unknown>;

/** A numeric device param, accepting numeric strings; undefined when absent or not a finite number. */
export function num(params: Params, key: string): number | undefined {
  const raw = params[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) ? n : undefined;
}
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** mm per count: a unit fixed by the device (SenseCAP 0.001 mm) wins over the gauge's mmPerTip param. */
export const mmPerCount = (counter: DecodedCounter, params: Params): number => counter.mmPerCount ?? num(params, 'mmPerTip') ?? DEFAULT_MM_PER_TIP;

/**
 * Tips since `prev` for a cumulative counter. A drop is either a wrap of the 16/32-bit register (only
 * plausible when the forward distance around the wrap is small, i.e. prev was near the top) or a reset
 * (reboot, battery change): then the counter restarted at 0 and its new value is the count since.
 */
export function countDelta(prev: number, count: number, bits: 16 | 32): number {
  if (count >= prev) return count - prev;
  const range = 2 ** bits;
  const viaWrap = range - prev + count;
  return viaWrap <= range / 16 ? viaWrap : count;
}

/** Per-device counter state; rain_mm for each counter value, null for the baseline. */
export class CounterState {
  /** Continue from the last stored raw count (and its time) after a restart, so no rain is lost or doubled. */
  static fromStored(lastCount: number | null | undefined, lastTime?: number): CounterState {
    return new CounterState(lastCount ?? undefined, lastTime);
  }

  constructor(
    private last?: number,
    private lastAt?: number,
  ) {}

  /** The raw count to persist (e.g. as reading `x_counter`) for `fromStored`. */
  get lastCount(): number | undefined {
    return this.last;
  }

  /** When the count before the latest one was read: the rain of the latest value fell since then. */
  sincePrevious?: number;

  next(counter: DecodedCounter, params: Params = {}, time?: number): number | null {
    const perCount = mmPerCount(counter, params);
    // Relative counters already are "tips since the previous uplink"; no state needed.
    if (counter.relative) return round6(counter.count * perCount);
    // A count read before the latest one (a late or re-delivered uplink) carries no new tips; taken as the
    // newest it would look like a reset, add its whole count as rain and count the tips after it twice.
    if (time !== undefined && this.lastAt !== undefined && time <= this.lastAt) return null;
    const prev = this.last;
    this.sincePrevious = time !== undefined && this.lastAt !== undefined ? time - this.lastAt : undefined;
    this.last = counter.count;
    if (time !== undefined) this.lastAt = time;
    if (prev === undefined) return null; // first value only sets the baseline [docs/topics.md Canonical metrics: rain_mm]
    return round6(countDelta(prev, counter.count, counter.bits) * perCount);
  }
}

/** Counter states for all devices, keyed by device id; `seed` hydrates from storage at start. */
export class CounterTracker {
  private readonly states = new Map<string, CounterState>();

  seed(deviceId: string, lastCount: number | null | undefined, lastTime?: number): void {
    this.states.set(deviceId, CounterState.fromStored(lastCount, lastTime));
  }

  next(deviceId: string, counter: DecodedCounter, params: Params = {}, time?: number): number | null {
    const state = this.states.get(deviceId) ?? new CounterState();
    this.states.set(deviceId, state);
    return state.next(counter, params, time);
  }

  lastCount(deviceId: string): number | undefined {
    return this.states.get(deviceId)?.lastCount;
  }

  /** ms between the latest counter value and the one before it (undefined for the baseline) */
  sincePrevious(deviceId: string): number | undefined {
    return this.states.get(deviceId)?.sincePrevious;
  }
}

/** (mountHeightMm − distanceMm)/10 + levelOffsetCm; null when the site has no mount height. */
export function levelFromDistance(distanceMm: number, params: Params): number | null {
  const mount = num(params, 'mountHeightMm');
  if (mount === undefined) return null;
  return round6((mount - distanceMm) / 10 + (num(params, 'levelOffsetCm') ?? 0));
}

/** pressure_bar × 1019.72 + levelOffsetCm (fresh water, vented probe). */
export function levelFromPressure(bar: number, params: Params): number {
  return round6(bar * CM_PER_BAR + (num(params, 'levelOffsetCm') ?? 0));
}
