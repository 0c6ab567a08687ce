import { describe, expect, it } from 'vitest';
import { Quality } from '../../alerts/types.ts';
import { QualityFilter } from './quality.ts';

const MIN = 60_000;
const T0 = Date.UTC(2025, 6, 1, 12);
/** Feed level_cm readings every `stepMin` minutes and return their flags. */
function levels(values: number[], params: Record<string, unknown> = {}, stepMin = 5, q = new QualityFilter()) {
  return values.map((v, i) => q.check('dev1', 'level_cm', T0 + i * stepMin * MIN, v, params));
}
const { GOOD, SPIKE, GRADIENT, DEAD_ZONE, OUT_OF_RANGE } = Quality;

describe('spike', () => {
  it('a single-sample blip is flagged and never becomes the reference', () => {
    expect(levels([100, 101, 180, 102, 103])).toEqual([GOOD, GOOD, SPIKE, GOOD, GOOD]);
  });
  it('a real step is held one sample, then the confirming reading passes', () => {
    expect(levels([100, 101, 180, 181, 182])).toEqual([GOOD, GOOD, SPIKE, GOOD, GOOD]);
  });
  it('a fast sustained rise (each step beyond the spike size) is confirmed too, not held forever', () => {
    // 60 cm per 5 min = 12 cm/min: a flash flood, below the gradient limit
    expect(levels([100, 160, 220, 280, 340])).toEqual([GOOD, SPIKE, GOOD, GOOD, GOOD]);
  });
  it('once a rise levels off, a blip is caught again', () => {
    expect(levels([100, 160, 220, 280, 280, 400, 281])).toEqual([GOOD, SPIKE, GOOD, GOOD, GOOD, SPIKE, GOOD]);
  });
  it('a drop-out blip downwards is caught as well', () => {
    expect(levels([150, 150, 20, 151])).toEqual([GOOD, GOOD, SPIKE, GOOD]);
  });
  it('honours spikeCm and keeps series per device and metric apart', () => {
    expect(levels([100, 130], { spikeCm: 20 })).toEqual([GOOD, SPIKE]);
    const q = new QualityFilter();
    q.check('dev1', 'level_cm', T0, 100, {});
    expect(q.check('dev2', 'level_cm', T0 + 5 * MIN, 300, {})).toBe(GOOD);
    expect(q.check('dev1', 'level_cm', T0 + 5 * MIN, 300, {})).toBe(SPIKE);
  });
  it('seeding from storage makes the first reading after a restart comparable', () => {
    const q = new QualityFilter();
    q.seed('dev1', 'level_cm', T0 - 5 * MIN, 100);
    expect(q.check('dev1', 'level_cm', T0, 190, {})).toBe(SPIKE);
  });
  it('compares distance_mm in cm: 600 mm jump is a spike, 400 mm is not', () => {
    const q = new QualityFilter();
    const at = (i: number) => T0 + i * 5 * MIN;
    expect([2000, 2600, 2000, 2400].map((v, i) => q.check('d', 'distance_mm', at(i), v, {}))).toEqual([GOOD, SPIKE, GOOD, GOOD]);
  });
});

describe('spike judged by time between samples [FloodNet BlipFilter: neighbours ≤ 5 min apart]', () => {
  const judge = (values: number[], stepMin: number, q = new QualityFilter()) =>
    values.map((v, i) => q.judge('dev1', 'level_cm', T0 + i * stepMin * MIN, v, {}));
  it('at 15-min sampling a 60 cm step is a rise (4 cm/min), not a spike', () => {
    expect(judge([500, 560, 562], 15).map((r) => r.flags)).toEqual([GOOD, GOOD, GOOD]);
  });
  it('at 15-min sampling a peak between two lower readings is evaluated', () => {
    expect(judge([480, 600, 500], 15).map((r) => r.flags)).toEqual([GOOD, GOOD, GOOD]);
  });
  it('a held spike that the next reading confirms is released for evaluation', () => {
    const r = judge([100, 101, 180, 181], 5);
    expect(r.map((x) => x.flags)).toEqual([GOOD, GOOD, SPIKE, GOOD]);
    expect(r[3].released).toEqual({ time: T0 + 10 * MIN, value: 180 });
  });
  it('a blip (up and straight back down) is never released', () => {
    const r = judge([100, 101, 180, 102], 5);
    expect(r[3]).toEqual({ flags: GOOD });
  });
  it('a suspected peak whose way back is too slow for a blip is released', () => {
    const q = new QualityFilter();
    q.judge('d', 'level_cm', T0, 480, {});
    expect(q.judge('d', 'level_cm', T0 + 5 * MIN, 600, {}).flags).toBe(SPIKE);
    expect(q.judge('d', 'level_cm', T0 + 20 * MIN, 500, {})).toEqual({ flags: GOOD, released: { time: T0 + 5 * MIN, value: 600 } });
  });
  it('a gradient suspect is never released', () => {
    expect(judge([100, 140, 141], 1)[2]).toEqual({ flags: GOOD });
  });
  it('seeded from storage: the last good readings are the reference and a stored spike is still on hold', () => {
    const q = new QualityFilter();
    q.seedSeries('d', 'level_cm', [
      { time: T0, value: 100, quality: GOOD },
      { time: T0 + 5 * MIN, value: 101, quality: GOOD },
      { time: T0 + 10 * MIN, value: 180, quality: SPIKE },
    ]);
    expect(q.judge('d', 'level_cm', T0 + 15 * MIN, 182, {})).toEqual({ flags: GOOD, released: { time: T0 + 10 * MIN, value: 180 } });
  });
  it("rain from a counter is judged over the time since the counter's previous read", () => {
    const q = new QualityFilter();
    expect(q.judge('g', 'rain_mm', T0, 36, {}, 30 * MIN).flags).toBe(GOOD);
    expect(q.judge('g', 'rain_mm', T0 + MIN, 36, {}, 5 * MIN).flags).toBe(OUT_OF_RANGE);
  });
});

describe('gradient', () => {
  it('flags a rise faster than 25.4 cm/min against the last good point', () => {
    // 1-minute readings: +30 cm in a minute is below the spike size but above the gradient limit
    expect(levels([100, 130], {}, 1)).toEqual([GOOD, GRADIENT]);
    expect(levels([100, 125], {}, 1)).toEqual([GOOD, GOOD]);
  });
  it('flags fast falls too, and honours maxRiseCmPerMin', () => {
    expect(levels([100, 70], {}, 1)).toEqual([GOOD, GRADIENT]);
    expect(levels([100, 110], { maxRiseCmPerMin: 5 }, 1)).toEqual([GOOD, GRADIENT]);
  });
  it('a real step that was too fast is accepted once the following reading confirms it', () => {
    // 1-min readings: +40 in one minute (GRADIENT), confirmed next minute (40/2 = 20 cm/min) → good
    expect(levels([100, 140, 141], {}, 1)).toEqual([GOOD, GRADIENT, GOOD]);
  });
});

describe('range and dead zone', () => {
  it('flags distances inside the dead zone and levels above mount height − dead zone', () => {
    const q = new QualityFilter();
    const p = { deadZoneMm: 300, mountHeightMm: 3000 };
    expect(q.check('d', 'distance_mm', T0, 250, p)).toBe(DEAD_ZONE);
    expect(q.check('d', 'distance_mm', T0 + MIN, 350, p)).toBe(GOOD);
    expect(q.check('d', 'level_cm', T0, 275, p)).toBe(DEAD_ZONE); // (3000 − 300)/10 = 270 cm is the top
    expect(q.check('d', 'level_cm', T0 + 5 * MIN, 265, p)).toBe(GOOD);
  });
  it('without deadZoneMm nothing is a dead zone', () => {
    expect(new QualityFilter().check('d', 'distance_mm', T0, 50, {})).toBe(GOOD);
  });
  it('flags physically impossible values and respects level overrides', () => {
    const q = new QualityFilter();
    expect(q.check('d', 'battery_pct', T0, 140, {})).toBe(OUT_OF_RANGE);
    expect(q.check('d', 'distance_mm', T0, -5, {})).toBe(OUT_OF_RANGE);
    expect(q.check('d', 'level_cm', T0, 250, { maxLevelCm: 200 })).toBe(OUT_OF_RANGE);
    expect(q.check('d', 'level_cm', T0, Number.NaN, {})).toBe(OUT_OF_RANGE);
    expect(q.check('d', 'x_wind_speed_m_s', T0, 1e6, {})).toBe(GOOD);
  });
  it('an out-of-range reading does not become the spike reference', () => {
    const q = new QualityFilter();
    q.check('d', 'level_cm', T0, 100, {});
    expect(q.check('d', 'level_cm', T0 + 5 * MIN, 9000, {})).toBe(OUT_OF_RANGE);
    expect(q.check('d', 'level_cm', T0 + 10 * MIN, 101, {})).toBe(GOOD);
  });
  it('rain over 30 mm per 5 minutes is suspicious, scaled by the time since the previous reading', () => {
    const q = new QualityFilter();
    expect(q.check('g', 'rain_mm', T0, 12, {})).toBe(GOOD);
    expect(q.check('g', 'rain_mm', T0 + 5 * MIN, 31, {})).toBe(OUT_OF_RANGE);
    expect(q.check('g', 'rain_mm', T0 + 65 * MIN, 90, {})).toBe(GOOD); // 1 h gap allows 360 mm
    expect(q.check('g', 'rain_mm', T0 + 70 * MIN, -0.2, {})).toBe(OUT_OF_RANGE);
  });
});
