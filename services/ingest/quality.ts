// Quality flags per (device, metric) [domain.md 4.2 FloodNet filters]. Flagged readings are stored but
// never evaluated by the rules, so a blip under the sensor cannot raise a flood alarm.
import { Quality } from '../../alerts/types.ts';
import { CM_PER_BAR, num, type Params } from './derive.ts';

/** Physical plausibility per metric; [min, max] and the param names that override them. */
const RANGES: Record<string, [number, number, string?, string?]> = {
  level_cm: [-500, 5000, 'minLevelCm', 'maxLevelCm'],
  distance_mm: [0, 30000, 'minDistanceMm', 'maxDistanceMm'],
  pressure_bar: [-1, 20, 'minPressureBar', 'maxPressureBar'],
  battery_v: [0, 15],
  battery_pct: [0, 100],
  temperature_c: [-50, 80],
  rain_mm: [0, Number.POSITIVE_INFINITY], // the upper bound scales with time, see rainLimit
  rssi_dbm: [-200, 20],
  snr_db: [-40, 40],
};

// Level-like metrics get spike and gradient checks, compared in cm.
const CM_PER_UNIT: Record<string, number> = {
  level_cm: 1,
  distance_mm: 0.1,
  pressure_bar: CM_PER_BAR,
};

const FIVE_MIN_MS = 5 * 60_000;
/** > ~30 mm in 5 min (≈360 mm/h) is suspicious [domain.md 4.1]; a longer gap allows proportionally more. */
function rainLimit(params: Params, sinceMs: number | undefined): number {
  const per5 = num(params, 'maxRainMmPer5Min') ?? 30;
  return per5 * Math.max(1, (sinceMs ?? 0) / FIVE_MIN_MS);
}

interface Point {
  time: number;
  value: number;
}
interface SeriesState {
  lastGood?: Point;
  /** the good point before lastGood: their slope lets a steady fast rise continue without a hold */
  prevGood?: Point;
  suspect?: Point;
  lastTime?: number;
}

export class QualityFilter {
  private readonly series = new Map<string, SeriesState>();

  /** Hydrate from the last good stored reading so a restart does not open a window for spikes. */
  seed(deviceId: string, metric: string, time: number, value: number): void {
    this.series.set(`${deviceId}\u0000${metric}`, {
      lastGood: { time, value },
      lastTime: time,
    });
  }

  check(deviceId: string, metric: string, time: number, value: number, params: Params = {}): number {
    const key = `${deviceId}\u0000${metric}`;
    const state = this.series.get(key) ?? {};
    this.series.set(key, state);
    const sinceLast = state.lastTime === undefined ? undefined : time - state.lastTime;
    if (state.lastTime === undefined || time > state.lastTime) state.lastTime = time;

    const flags = this.rangeFlags(metric, value, params, sinceLast);
    if (flags !== Quality.GOOD) return flags; // never becomes the reference for later readings
    const scale = CM_PER_UNIT[metric];
    return scale === undefined ? Quality.GOOD : this.dynamicFlags(state, { time, value }, scale, params);
  }

  private rangeFlags(metric: string, value: number, params: Params, sinceLast: number | undefined): number {
    if (!Number.isFinite(value)) return Quality.OUT_OF_RANGE;
    let flags: number = Quality.GOOD;
    const range = RANGES[metric];
    if (range) {
      const [min, max, minKey, maxKey] = range;
      const lo = (minKey ? num(params, minKey) : undefined) ?? min;
      const hi = (maxKey ? num(params, maxKey) : undefined) ?? max;
      if (value < lo || value > hi) flags |= Quality.OUT_OF_RANGE;
    }
    if (metric === 'rain_mm' && value > rainLimit(params, sinceLast)) flags |= Quality.OUT_OF_RANGE;

    // Dead zone: too close to the transducer to be measured [domain.md 4.2 "Dead zone / minimum range"].
    const deadZone = num(params, 'deadZoneMm');
    if (deadZone !== undefined && deadZone > 0) {
      if (metric === 'distance_mm' && value < deadZone) flags |= Quality.DEAD_ZONE;
      const mount = num(params, 'mountHeightMm');
      if (metric === 'level_cm' && mount !== undefined) {
        const highestMeasurable = (mount - deadZone) / 10 + (num(params, 'levelOffsetCm') ?? 0);
        if (value > highestMeasurable) flags |= Quality.DEAD_ZONE;
      }
    }
    return flags;
  }

  /**
   * SPIKE: a jump larger than spikeCm from the last good value (and off the recent trend) is held as
   * suspect. The next reading
   * decides: near the suspect, or further on in the same direction (a fast sustained rise) → a real
   * change, that reading passes, one sample late; back near the old level → it was a blip and never
   * reached the rules [FloodNet BlipFilter].
   * GRADIENT: faster than maxRiseCmPerMin against the last good point [FloodNet GradFilter, 10 in/min].
   * A gradient-flagged point is also held as suspect, so a real step is accepted once time has passed.
   */
  private dynamicFlags(state: SeriesState, point: Point, cmPerUnit: number, params: Params): number {
    const { lastGood, suspect } = state;
    if (!lastGood) {
      state.lastGood = point;
      return Quality.GOOD;
    }
    // Late or duplicate readings cannot be judged against a newer reference; keep the state as it is.
    if (point.time <= lastGood.time) return Quality.GOOD;

    const spikeCm = num(params, 'spikeCm') ?? 50;
    const cm = (a: number, b: number) => Math.abs(a - b) * cmPerUnit;
    const confirms =
      suspect !== undefined &&
      (cm(point.value, suspect.value) <= spikeCm ||
        (suspect.value - lastGood.value) * (point.value - suspect.value) > 0);
    state.suspect = undefined;
    if (
      spikeCm > 0 &&
      !confirms &&
      cm(point.value, lastGood.value) > spikeCm &&
      !onTrend(state, point, spikeCm / cmPerUnit)
    ) {
      state.suspect = point;
      return Quality.SPIKE;
    }

    const maxRate = num(params, 'maxRiseCmPerMin') ?? 25.4;
    const minutes = (point.time - lastGood.time) / 60_000;
    if (maxRate > 0 && cm(point.value, lastGood.value) / minutes > maxRate) {
      state.suspect = point;
      return Quality.GRADIENT;
    }
    state.prevGood = lastGood;
    state.lastGood = point;
    return Quality.GOOD;
  }
}

/** Is the point where the last two good points' slope says the level should be by now? */
function onTrend({ lastGood, prevGood }: SeriesState, point: Point, tolerance: number): boolean {
  if (!lastGood || !prevGood || lastGood.time <= prevGood.time) return false;
  const slope = (lastGood.value - prevGood.value) / (lastGood.time - prevGood.time);
  return Math.abs(point.value - (lastGood.value + slope * (point.time - lastGood.time))) <= tolerance;
}
