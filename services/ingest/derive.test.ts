import { describe, expect, it } from 'vitest';
import type { DecodedCounter } from './codecs/types.ts';
import { CounterState, CounterTracker, countDelta, levelFromDistance, levelFromPressure } from './derive.ts';

const c32 = (count: number): DecodedCounter => ({ count, bits: 32 });
const c16 = (count: number): DecodedCounter => ({ count, bits: 16 });
const feed = (state: CounterState, counts: number[], params = {}, mk: (n: number) => DecodedCounter = c32) => counts.map((n) => state.next(mk(n), params));

describe('rain_mm from tip counters', () => {
  it('the first counter value only sets the baseline; later values give delta × mmPerTip (0.2 default)', () => {
    expect(feed(new CounterState(), [100, 120, 120, 121])).toEqual([null, 4, 0, 0.2]);
  });
  it('uses the mmPerTip param', () => {
    expect(feed(new CounterState(), [10, 13], { mmPerTip: 0.254 })).toEqual([null, 0.762]);
  });
  it('a counter reset counts the new value as tips since the reset (the contract smoke: 4 then 1 mm)', () => {
    expect(feed(new CounterState(), [100, 120, 5])).toEqual([null, 4, 1]);
    expect(feed(new CounterState(), [40000, 40010, 3], {}, c16)).toEqual([null, 2, 0.6]);
  });
  it('a 16-bit wrap near the top of the range continues the count', () => {
    // 65530 → 65535 → 0 → 4 is 10 tips
    expect(feed(new CounterState(), [65500, 65530, 4], {}, c16)).toEqual([null, 6, 2]);
  });
  it('a 32-bit wrap near 2^32 continues the count', () => {
    expect(feed(new CounterState(), [4294967290, 3])).toEqual([null, 1.8]);
  });
  it('a gap of missed uplinks keeps the total: one larger delta, nothing lost or doubled', () => {
    const every = feed(new CounterState(), [0, 5, 12, 20, 31]).slice(1) as number[];
    const gappy = feed(new CounterState(), [0, 31]).slice(1) as number[];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(gappy)).toBeCloseTo(sum(every), 9);
    expect(sum(gappy)).toBeCloseTo(6.2, 9);
  });
  it('relative counters are tips since the previous uplink, with no baseline', () => {
    const s = new CounterState();
    expect(s.next({ count: 7, bits: 16, relative: true })).toBe(1.4);
    expect(s.next({ count: 0, bits: 16, relative: true })).toBe(0);
  });
  it("a device-fixed unit (SenseCAP 0.001 mm) overrides the gauge's mmPerTip", () => {
    const s = new CounterState();
    s.next({ count: 12345, bits: 32, mmPerCount: 0.001 });
    expect(s.next({ count: 14845, bits: 32, mmPerCount: 0.001 }, { mmPerTip: 0.2 })).toBe(2.5);
  });
  it('continues from the last stored count after a restart (no new baseline, no lost tips)', () => {
    const before = new CounterState();
    feed(before, [100, 110]);
    const after = CounterState.fromStored(before.lastCount);
    expect(after.next(c32(115))).toBe(1);
    expect(CounterState.fromStored(null).next(c32(115))).toBeNull();
  });
  it('tracks devices independently', () => {
    const t = new CounterTracker();
    t.seed('a', 50);
    expect(t.next('a', c32(60))).toBe(2);
    expect(t.next('b', c32(60))).toBeNull();
    expect(t.lastCount('a')).toBe(60);
  });
  it.each([
    [10, 20, 16, 10],
    [65535, 0, 16, 1],
    [30000, 10, 16, 10], // far from the top: a reset, not 35546 tips via wrap
    [100, 5, 32, 5],
  ])('countDelta(%i → %i, %i bits) = %i', (prev, next, bits, want) => {
    expect(countDelta(prev, next, bits as 16 | 32)).toBe(want);
  });
});

describe('level', () => {
  it('from distance: (mountHeightMm − distanceMm)/10 + levelOffsetCm', () => {
    expect(levelFromDistance(2799, { mountHeightMm: 3500 })).toBe(70.1); // contract smoke
    expect(levelFromDistance(2799, { mountHeightMm: '3500', levelOffsetCm: -20 })).toBe(50.1);
  });
  it('from distance needs a mount height', () => {
    expect(levelFromDistance(2799, {})).toBeNull();
  });
  it('from pressure: bar × 1019.72 + levelOffsetCm', () => {
    expect(levelFromPressure(0.5, {})).toBe(509.86);
    expect(levelFromPressure(0.1, { levelOffsetCm: 12 })).toBe(113.972);
  });
});

describe('counter timing', () => {
  it('a late or re-delivered count (read before the latest one) is no reset and no rain; nothing is counted twice', () => {
    const s = new CounterState();
    const at = (min: number) => min * 60_000;
    expect(s.next(c16(1000), {}, at(0))).toBeNull();
    expect(s.next(c16(1010), {}, at(5))).toBe(2);
    expect(s.next(c16(1005), {}, at(3)), 'the late uplink from minute 3').toBeNull();
    expect(s.next(c16(1010), {}, at(5)), 'the uplink of minute 5 again').toBeNull();
    expect(s.next(c16(1020), {}, at(10)), '10 tips since minute 5, not 15 since the late count').toBe(2);
  });

  it('remembers when the previous count was read, also across a restart (seeded with its time)', () => {
    const t = new CounterTracker();
    t.seed('g', 1000, 0);
    expect(t.next('g', c32(1180), {}, 30 * 60_000)).toBe(36);
    expect(t.sincePrevious('g')).toBe(30 * 60_000);
    t.next('g', c32(1181), {}, 35 * 60_000);
    expect(t.sincePrevious('g')).toBe(5 * 60_000);
  });
});
