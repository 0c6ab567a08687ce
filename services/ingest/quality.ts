// Quality flags per (device, metric) [docs/reference/domain.md 4.2 FloodNet filters]. Flagged readings are stored but
// never evaluated by the rules, so a blip under the sensor cannot raise a flood alarm.
import { isEvaluated, NOT_EVALUATED, Quality } from '../../alerts/types.ts';
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

/** The series whose judgement depends on earlier readings (the spike/gradient reference, the rain pace). */
export const SEEDED_METRICS = ['rain_mm', ...Object.keys(CM_PER_UNIT)];

const FIVE_MIN_MS = 5 * 60_000;
/** > ~30 mm in 5 min (≈360 mm/h) is suspicious [docs/reference/domain.md 4.1]; a longer gap allows proportionally more. */
function rainLimit(params: Params, sinceMs: number | undefined): number {
  const per5 = num(params, 'maxRainMmPer5Min') ?? 30;
  return per5 * Math.max(1, (sinceMs ?? 0) / FIVE_MIN_MS);
}

interface Point {
  time: number;
  value: number;
}
interface Suspect extends Point {
  flags: number;
}
interface SeriesState {
  lastGood?: Point;
  /** the good point before lastGood: their slope lets a steady fast rise continue without a hold */
  prevGood?: Point;
  suspect?: Suspect;
  lastTime?: number;
}

/** A stored reading, as the filter is seeded with after a restart. */
export interface StoredPoint extends Point {
  quality: number;
}

export interface QualityResult {
  flags: number;
  /** a held suspect that the next reading confirmed: stored flagged, now to be evaluated after all */
  released?: Point;
}

const HELD = Quality.SPIKE | Quality.GRADIENT;

export class QualityFilter {
  /** per device, per metric: two lookups instead of building a key string for every reading */
  private readonly series = new Map<string, Map<string, SeriesState>>();

  private seriesOf(deviceId: string): Map<string, SeriesState> {
    let byMetric = this.series.get(deviceId);
    if (!byMetric) this.series.set(deviceId, (byMetric = new Map()));
    return byMetric;
  }

  private stateOf(deviceId: string, metric: string): SeriesState {
    const byMetric = this.seriesOf(deviceId);
    let state = byMetric.get(metric);
    if (!state) byMetric.set(metric, (state = {}));
    return state;
  }

  /** Hydrate from the last good stored reading so a restart does not open a window for spikes. */
  seed(deviceId: string, metric: string, time: number, value: number): void {
    this.seedSeries(deviceId, metric, [{ time, value, quality: Quality.GOOD }]);
  }

  /** Hydrate from the latest stored readings of one series (any order): the last two good ones are the
   *  reference and trend, a flagged spike after them is held again, the newest time paces rain. */
  seedSeries(deviceId: string, metric: string, points: StoredPoint[]): void {
    const sorted = [...points].sort((a, b) => a.time - b.time);
    const good = sorted.filter((p) => isEvaluated(p.quality));
    const state: SeriesState = { lastGood: good.at(-1), prevGood: good.at(-2), lastTime: sorted.at(-1)?.time };
    const last = sorted.at(-1);
    if (last && (last.quality & HELD) !== 0 && (last.quality & NOT_EVALUATED & ~HELD) === 0 && (!state.lastGood || last.time > state.lastGood.time)) {
      state.suspect = { time: last.time, value: last.value, flags: last.quality };
    }
    this.seriesOf(deviceId).set(metric, state);
  }

  check(deviceId: string, metric: string, time: number, value: number, params: Params = {}): number {
    return this.judge(deviceId, metric, time, value, params).flags;
  }

  /** `sinceMs`: the time the value stands for, when the caller knows it better (a counter's previous read). */
  judge(deviceId: string, metric: string, time: number, value: number, params: Params = {}, sinceMs?: number): QualityResult {
    const state = this.stateOf(deviceId, metric);
    const sinceLast = sinceMs ?? (state.lastTime === undefined ? undefined : time - state.lastTime);
    if (state.lastTime === undefined || time > state.lastTime) state.lastTime = time;

    const flags = this.rangeFlags(metric, value, params, sinceLast);
    if (flags !== Quality.GOOD) return { flags }; // never becomes the reference for later readings
    const scale = CM_PER_UNIT[metric];
    return scale === undefined ? { flags: Quality.GOOD } : this.dynamicFlags(state, { time, value }, scale, params);
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

    // Dead zone: too close to the transducer to be measured [docs/reference/domain.md 4.2 "Dead zone / minimum range"].
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
   * SPIKE: a jump of more than spikeCm within 5 min of the last good value — or, further apart, faster than
   * spikeCm per 5 min — that is off the recent trend. FloodNet's BlipFilter only judges a point whose
   * neighbours are ≤ 5 min apart [docs/reference/domain.md 4.2]; at 15-min sampling a 60 cm step is 4 cm/min, a real rise.
   * The suspect is held until the next reading only: back near the old level just as fast → a blip, it stays
   * flagged and never reaches the rules; otherwise (confirmed, or the way back too slow for a blip) it is
   * released and evaluated after all, before the reading that decided it.
   * GRADIENT: faster than maxRiseCmPerMin against the last good point [FloodNet GradFilter, 10 in/min]. Held
   * too, but never released: a step too fast to be water is accepted once time has passed (the next reading
   * judged against the last good one).
   */
  private dynamicFlags(state: SeriesState, point: Point, cmPerUnit: number, params: Params): QualityResult {
    if (!state.lastGood) {
      state.lastGood = point;
      return { flags: Quality.GOOD };
    }
    // Late or duplicate readings cannot be judged against a newer reference; keep the state as it is.
    if (point.time <= state.lastGood.time || (state.suspect && point.time <= state.suspect.time)) return { flags: Quality.GOOD };

    const spikeCm = num(params, 'spikeCm') ?? 50;
    const maxRate = num(params, 'maxRiseCmPerMin') ?? 25.4;
    const cm = (a: Point, b: Point) => Math.abs(a.value - b.value) * cmPerUnit;
    const tooFast = (a: Point, b: Point) => {
      const d = cm(a, b);
      const minutes = Math.abs(b.time - a.time) / 60_000;
      return (spikeCm > 0 && d > spikeCm * Math.max(1, minutes / 5)) || (maxRate > 0 && d / minutes > maxRate);
    };

    let released: Point | undefined;
    const { suspect } = state;
    state.suspect = undefined;
    if (suspect) {
      const lastGood = state.lastGood;
      const confirms = cm(point, suspect) < cm(point, lastGood) || (suspect.value - lastGood.value) * (point.value - suspect.value) > 0;
      const blip = !confirms && tooFast(suspect, point);
      if (!blip && suspect.flags === Quality.SPIKE) {
        released = { time: suspect.time, value: suspect.value };
        state.prevGood = lastGood;
        state.lastGood = released;
      }
    }
    const lastGood = state.lastGood;

    const jump = cm(point, lastGood);
    const minutes = (point.time - lastGood.time) / 60_000;
    if (spikeCm > 0 && jump > spikeCm * Math.max(1, minutes / 5) && !onTrend(state, point, spikeCm / cmPerUnit)) {
      state.suspect = { ...point, flags: Quality.SPIKE };
      return { flags: Quality.SPIKE, released };
    }
    if (maxRate > 0 && jump / minutes > maxRate) {
      state.suspect = { ...point, flags: Quality.GRADIENT };
      return { flags: Quality.GRADIENT, released };
    }
    state.prevGood = lastGood;
    state.lastGood = point;
    return { flags: Quality.GOOD, released };
  }
}

/** Is the point where the last two good points' slope says the level should be by now? */
function onTrend({ lastGood, prevGood }: SeriesState, point: Point, tolerance: number): boolean {
  if (!lastGood || !prevGood || lastGood.time <= prevGood.time) return false;
  const slope = (lastGood.value - prevGood.value) / (lastGood.time - prevGood.time);
  return Math.abs(point.value - (lastGood.value + slope * (point.time - lastGood.time))) <= tolerance;
}
