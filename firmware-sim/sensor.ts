// The simulated physical sensor: turns scenario truth into what the device measures — tip counters
// quantised to the bucket size, noisy distance or pressure, temperature, a slowly draining battery.
import type { ModelSpec, SensorReading } from './encoders/index.ts';
import type { Rng } from './prng.ts';
import type { Truth } from './scenarios/types.ts';

export interface SensorParams {
  mountHeightMm: number;
  mmPerTip: number;
  /** ultrasonic minimum range; closer water cannot be measured */
  deadZoneMm: number;
}

export const DEFAULT_SENSOR: SensorParams = { mountHeightMm: 3000, mmPerTip: 0.2, deadZoneMm: 280 };
const HOUR = 3_600_000;

export interface Sensor {
  read(offsetMs: number, truth: Truth): SensorReading;
}

export function createSensor(spec: ModelSpec, params: SensorParams, rng: Rng): Sensor {
  // Real counters have run for months before the simulation starts.
  const counterBase = rng.int(0, 50_000);
  const batteryStart = spec.batteryFullV - rng.next() * 0.15;
  const tempOffset = rng.normal(0, 1.5);
  let prevTips: number | undefined;
  let prevOffset = 0;

  return {
    read(offsetMs, truth) {
      const r: SensorReading = {};
      const hours = offsetMs / HOUR;
      r.batteryV = round(truth.batteryV ?? batteryStart - 0.002 * hours, 3);
      r.temperatureC = round(truth.temperatureC ?? 14 + tempOffset + 3 * Math.sin((2 * Math.PI * hours) / 24) + rng.normal(0, 0.1), 1);
      if (spec.kind === 'rain') {
        // floor: a bucket tips only once it is full; the epsilon absorbs float error (28.8/0.2 = 143.999…)
        const tips = Math.floor((truth.rainCumMm ?? 0) / params.mmPerTip + 1e-6);
        const intervalMm = (tips - (prevTips ?? tips)) * params.mmPerTip;
        if (spec.measures === 'tipCount') r.tipCount = counterBase + tips;
        else r.rainMm = round(intervalMm, 3);
        const hours = (offsetMs - prevOffset) / HOUR;
        // S2120 reports counts in mm (needs the bucket size) and a rain intensity alongside
        r.extra = { mmPerTip: params.mmPerTip, rainIntensityMmH: hours > 0 ? round(intervalMm / hours, 1) : 0 };
        prevTips = tips;
        prevOffset = offsetMs;
      } else {
        const levelCm = truth.levelCm ?? 20;
        let distance = truth.distanceMm ?? params.mountHeightMm - levelCm * 10 + rng.normal(0, 3);
        distance = Math.max(params.deadZoneMm, Math.min(65_000, distance));
        if (spec.measures === 'distanceMm') r.distanceMm = Math.round(distance);
        else r.pressureBar = round(Math.max(0, (params.mountHeightMm - distance) / 10 / 1019.72 + rng.normal(0, 0.0002)), 5);
      }
      return r;
    },
  };
}

export const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
