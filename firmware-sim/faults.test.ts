// Each fault changes the series the way a real failure would (docs/reference/domain.md §4) — and only where planned.
import { describe, expect, it } from 'vitest';
import { getModel, type SensorReading } from './encoders/index.ts';
import { createFaultApplier, type FaultName, parseFaults, planFaults, SPIKE_DISTANCE_MM, SPIKE_TIPS } from './faults.ts';
import { createRng } from './prng.ts';
import { runSimulator } from './simulator.ts';
import { memoryPublisher } from './test-helpers.ts';

const N = 60;
const level = getModel('dragino-ldds75');
const gauge = getModel('dragino-sn50v3-count');
const levelSeries = (): SensorReading[] => Array.from({ length: N }, (_, i) => ({ distanceMm: 2500 - i, batteryV: 3.5 }));
const tipSeries = (): SensorReading[] => Array.from({ length: N }, (_, i) => ({ tipCount: 1000 + 2 * i, batteryV: 3.5 }));

function apply(faults: FaultName[], spec = level, series = levelSeries()) {
  const plan = planFaults(faults, N, createRng('f'));
  const f = createFaultApplier(plan, spec, N);
  return { plan, out: series.map((r, i) => f(i, r)) };
}

describe('faults', () => {
  it('no faults: the series passes unchanged', () => {
    const { out } = apply([]);
    expect(out.map((u) => u?.reading)).toEqual(levelSeries());
    expect(out.every((u) => u?.copies === 1)).toBe(true);
  });

  it('spike: one distance sample 1200 mm short, its neighbours untouched', () => {
    const { plan, out } = apply(['spike']);
    const s = plan.spikeAt!;
    expect(out[s]!.reading.distanceMm).toBe(2500 - s - SPIKE_DISTANCE_MM);
    expect(out[s - 1]!.reading.distanceMm).toBe(2500 - (s - 1));
    expect(out[s + 1]!.reading.distanceMm).toBe(2500 - (s + 1));
  });

  it('spike on a gauge: a contact-bounce burst that stays in the counter', () => {
    const { plan, out } = apply(['spike'], gauge, tipSeries());
    const s = plan.spikeAt!;
    expect(out[s]!.reading.tipCount! - out[s - 1]!.reading.tipCount!).toBe(2 + SPIKE_TIPS);
    expect(out[N - 1]!.reading.tipCount).toBe(1000 + 2 * (N - 1) + SPIKE_TIPS);
  });

  it('gap: three consecutive uplinks are lost; the counter still holds their tips', () => {
    const { plan, out } = apply(['gap'], gauge, tipSeries());
    const [a, b] = plan.gap!;
    expect(b - a).toBe(2);
    expect(out.filter((u) => u === null)).toHaveLength(3);
    expect(out[b + 1]!.reading.tipCount! - out[a - 1]!.reading.tipCount!).toBe(2 * (b + 2 - a));
  });

  it('stuck: distance frozen over the window; a stuck bucket loses the rain of that window', () => {
    const lv = apply(['stuck']);
    const [a, b] = lv.plan.stuck!;
    expect(b - a).toBeGreaterThan(5);
    for (let i = a; i <= b; i++) expect(lv.out[i]!.reading.distanceMm).toBe(2500 - a);
    expect(lv.out[b + 1]!.reading.distanceMm).toBe(2500 - (b + 1));
    const g = apply(['stuck'], gauge, tipSeries());
    for (let i = a; i <= b; i++) expect(g.out[i]!.reading.tipCount).toBe(1000 + 2 * a);
    expect(g.out[N - 1]!.reading.tipCount).toBe(1000 + 2 * (N - 1) - 2 * (b - a));
  });

  it('counter-reset: the counter restarts near 0 and keeps counting', () => {
    const { plan, out } = apply(['counter-reset'], gauge, tipSeries());
    const r = plan.resetAt!;
    expect(out[r]!.rebooted).toBe(true);
    expect(out[r]!.reading.tipCount).toBe(2);
    expect(out[r + 1]!.reading.tipCount).toBe(4);
    expect(out[r - 1]!.reading.tipCount).toBe(1000 + 2 * (r - 1));
  });

  it('low-battery: the voltage falls below the empty level by the end', () => {
    const { out } = apply(['low-battery']);
    expect(out[0]!.reading.batteryV).toBe(3.5);
    expect(out[N - 1]!.reading.batteryV!).toBeLessThan(level.batteryEmptyV);
    const v = out.map((u) => u!.reading.batteryV!);
    for (let i = 1; i < N; i++) expect(v[i]).toBeLessThanOrEqual(v[i - 1]);
  });

  it('duplicate: some uplinks go out twice', () => {
    const { out } = apply(['duplicate']);
    const dups = out.filter((u) => u!.copies === 2).length;
    expect(dups).toBeGreaterThan(0);
    expect(dups).toBeLessThan(N / 3);
  });

  it('in a run: duplicates are byte-identical and a reset restarts fCnt', async () => {
    const pub = memoryPublisher();
    let t = 1_750_000_000_000;
    const s = await runSimulator(['--username', 'u', '--speed', '1e6', '--seed', '9', '--faults', 'duplicate,counter-reset'], {
      publisher: pub,
      now: () => t++,
    });
    expect(s.duplicates).toBeGreaterThan(0);
    expect(s.sent).toBe(61 + s.duplicates);
    const payloads = pub.messages.map((m) => m.payload);
    const repeated = payloads.filter((p, i) => i > 0 && p === payloads[i - 1]);
    expect(repeated).toHaveLength(s.duplicates);
    const fcnts = pub.messages.map((m) => JSON.parse(m.payload).fCnt ?? 0);
    expect(fcnts.filter((f, i) => i > 0 && f < fcnts[i - 1])).toHaveLength(1);
  });

  it('unknown fault names are rejected with the list', () => {
    expect(() => parseFaults('spike,flood')).toThrow(/unknown fault "flood".*spike, gap, stuck/);
  });
});
