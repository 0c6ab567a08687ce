// Sensor and transmission faults applied to one device's reading series (docs/reference/domain.md §4): where each
// fault sits is drawn from the device's seeded stream, so a seed reproduces them.
import type { ModelSpec, SensorReading } from './encoders/index.ts';
import type { Rng } from './prng.ts';

export const FAULTS = ['spike', 'gap', 'stuck', 'counter-reset', 'low-battery', 'duplicate'] as const;
export type FaultName = (typeof FAULTS)[number];

export interface FaultPlan {
  spikeAt?: number;
  /** indices of uplinks that are never sent (radio loss) */
  gap?: [number, number];
  /** the measured value freezes over [from, to] */
  stuck?: [number, number];
  /** the device reboots before this index: pulse counter and frame counter restart at 0 */
  resetAt?: number;
  /** battery falls from here to below empty at the end */
  lowBatteryFrom?: number;
  duplicates: Set<number>;
}

export const SPIKE_DISTANCE_MM = 1200; // S6: a −120 cm distance blip (object under the sensor)
export const SPIKE_TIPS = 150; // contact bounce burst: 30 mm at 0.2 mm/tip, beyond any plausible 5-min depth
const GAP_LEN = 3; // S6: a 3-uplink gap

export function planFaults(faults: readonly FaultName[], n: number, rng: Rng): FaultPlan {
  const at = (frac: number): number => Math.min(n - 1, Math.max(1, Math.floor(n * (frac + (rng.next() - 0.5) * 0.1))));
  const plan: FaultPlan = { duplicates: new Set() };
  if (n < 4) return plan;
  for (const f of faults) {
    if (f === 'spike') plan.spikeAt = at(0.5);
    if (f === 'gap') {
      const g = at(0.3);
      plan.gap = [g, Math.min(n - 2, g + GAP_LEN - 1)];
    }
    if (f === 'stuck') plan.stuck = [at(0.4), at(0.7)];
    if (f === 'counter-reset') plan.resetAt = at(0.6);
    if (f === 'low-battery') plan.lowBatteryFrom = Math.floor(n * 0.25);
    if (f === 'duplicate') {
      for (let i = 0; i < n; i++) if (rng.next() < 0.1) plan.duplicates.add(i);
      plan.duplicates.add(at(0.8));
    }
  }
  return plan;
}

export interface FaultedUplink {
  reading: SensorReading;
  /** send this many copies (1, or 2 for a duplicate) */
  copies: number;
  /** device rebooted just before this uplink */
  rebooted: boolean;
}

/** Stateful per device: feed readings in index order; null = the uplink is lost. */
export function createFaultApplier(plan: FaultPlan, spec: ModelSpec, n: number) {
  let bounce = 0;
  let lost = 0;
  let frozenSeen: number | undefined;
  let prevSeen: number | undefined;
  let resetBase = 0;
  let frozen: SensorReading | undefined;

  return (i: number, input: SensorReading): FaultedUplink | null => {
    const r: SensorReading = { ...input };
    const inStuck = plan.stuck !== undefined && i >= plan.stuck[0] && i <= plan.stuck[1];
    if (input.tipCount !== undefined) {
      // "seen" = pulses the counter registered: bounced pulses stay counted, a stuck bucket loses the rain
      if (plan.spikeAt === i) bounce = SPIKE_TIPS;
      let seen = input.tipCount + bounce - lost;
      if (inStuck) {
        frozenSeen ??= seen;
        lost += seen - frozenSeen;
        seen = frozenSeen;
      }
      // after a reboot the counter restarts at 0 and counts only pulses since then
      if (plan.resetAt === i) resetBase = prevSeen ?? seen;
      prevSeen = seen;
      r.tipCount = Math.max(0, seen - (plan.resetAt !== undefined && i >= plan.resetAt ? resetBase : 0));
    }
    if (plan.spikeAt === i) {
      if (r.distanceMm !== undefined) r.distanceMm = Math.max(0, r.distanceMm - SPIKE_DISTANCE_MM);
      if (r.pressureBar !== undefined) r.pressureBar += SPIKE_DISTANCE_MM / 10 / 1019.72;
      if (r.rainMm !== undefined) r.rainMm += SPIKE_TIPS * 0.2;
    }
    if (inStuck) {
      frozen ??= { ...r };
      if (r.rainMm !== undefined) r.rainMm = 0;
      for (const k of ['distanceMm', 'pressureBar'] as const) if (r[k] !== undefined) r[k] = frozen[k];
    }
    if (plan.lowBatteryFrom !== undefined && i >= plan.lowBatteryFrom && r.batteryV !== undefined) {
      const p = (i - plan.lowBatteryFrom) / Math.max(1, n - 1 - plan.lowBatteryFrom);
      const target = spec.batteryEmptyV - 0.1;
      r.batteryV = Math.round((r.batteryV + (target - r.batteryV) * p) * 1000) / 1000;
    }
    if (plan.gap && i >= plan.gap[0] && i <= plan.gap[1]) return null;
    return { reading: r, copies: plan.duplicates.has(i) ? 2 : 1, rebooted: plan.resetAt === i };
  };
}

export function parseFaults(list: string): FaultName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(FAULTS as readonly string[]).includes(n)) throw new Error(`unknown fault "${n}"; faults: ${FAULTS.join(', ')}`);
  }
  return names as FaultName[];
}
