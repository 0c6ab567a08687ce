// encode → the ingest decoder (services/ingest/codecs) → the same canonical values, for every model.
// Guards both sides: a layout drift in either shows up here.
import { describe, expect, it } from 'vitest';
import { decodeBuiltin } from '../../services/ingest/codecs/index.ts';
import { getModel, MODEL_NAMES, type SensorReading } from './index.ts';

interface Case {
  model: string;
  reading: SensorReading;
  values: Record<string, number>;
  counter?: { count: number; bits: number; mmPerCount?: number };
}

const cases: Case[] = [
  { model: 'decentlab-dl-mbx', reading: { distanceMm: 2345, batteryV: 3.05 }, values: { distance_mm: 2345, battery_v: 3.05, x_valid_samples: 1 } },
  {
    model: 'decentlab-dl-pr26',
    reading: { pressureBar: 0.25, temperatureC: 12.5, batteryV: 3.1 },
    values: { pressure_bar: 0.25, temperature_c: 12.5, battery_v: 3.1 },
  },
  {
    model: 'decentlab-dl-pr36',
    reading: { pressureBar: 0.4375, temperatureC: 9.25, batteryV: 3.1 },
    values: { pressure_bar: 0.4375, temperature_c: 9.25, battery_v: 3.1 },
  },
  { model: 'decentlab-dl-atm41', reading: { rainMm: 3.4, temperatureC: 17.3, batteryV: 3.0 }, values: { rain_mm: 3.4, temperature_c: 17.3, battery_v: 3 } },
  {
    model: 'dragino-ldds75',
    reading: { distanceMm: 2650, temperatureC: 11.2, batteryV: 3.55 },
    values: { distance_mm: 2650, temperature_c: 11.2, battery_v: 3.55 },
  },
  {
    model: 'dragino-ldds20',
    reading: { distanceMm: 812, temperatureC: -3.4, batteryV: 3.4 },
    values: { distance_mm: 812, temperature_c: -3.4, battery_v: 3.4 },
  },
  {
    model: 'dragino-sn50v3-count',
    reading: { tipCount: 4_000_123, temperatureC: 8.1, batteryV: 3.51 },
    values: { temperature_c: 8.1, battery_v: 3.51 },
    counter: { count: 4_000_123, bits: 32 },
  },
  { model: 'milesight-em310-udl', reading: { distanceMm: 1999, batteryV: 3.3 }, values: { distance_mm: 1999, battery_pct: 50 } },
  { model: 'milesight-em500-udl', reading: { distanceMm: 2501, batteryPct: 77 }, values: { distance_mm: 2501, battery_pct: 77 } },
  {
    model: 'elsys-elt',
    reading: { tipCount: 123_456, temperatureC: 6.5, batteryV: 3.6 },
    values: { temperature_c: 6.5, battery_v: 3.6 },
    counter: { count: 123_456, bits: 32 },
  },
  {
    model: 'sensecap-s2120',
    reading: { tipCount: 512, temperatureC: 19.9, batteryPct: 90, extra: { mmPerTip: 0.2, humidity: 71 } },
    values: { temperature_c: 19.9, x_humidity_pct: 71, battery_pct: 90 },
    counter: { count: 102_400, bits: 32, mmPerCount: 0.001 },
  },
  {
    model: 'sensecap-s2120',
    reading: { temperatureC: 19.9, batteryPct: 90, extra: { packetFormat: 1, humidity: 71, rainIntensityMmH: 42.5, windDirection: 180, pressurePa: 99870 } },
    values: { temperature_c: 19.9, x_humidity_pct: 71, battery_pct: 90, x_rain_intensity_mm_h: 42.5, x_wind_direction_deg: 180, x_air_pressure_pa: 99870 },
  },
];

describe('encode → decodeBuiltin round trip', () => {
  it('covers every built-in model', () => {
    expect(new Set(cases.map((c) => c.model))).toEqual(new Set(MODEL_NAMES));
  });

  it.each(cases.map((c) => [c.model, c] as const))('%s', (model, c) => {
    const frame = getModel(model).encode(c.reading);
    const out = decodeBuiltin(model, { bytes: frame.bytes, fPort: frame.fPort, params: {} });
    if (!out.ok) throw new Error(`${out.reason}: ${out.message}`);
    expect(out.values).toMatchObject(c.values);
    for (const [k, v] of Object.entries(c.values)) expect(out.values[k]).toBeCloseTo(v, 6);
    if (c.counter) expect(out.counter).toMatchObject(c.counter);
    else expect(out.counter).toBeUndefined();
  });

  it('a battery-only Decentlab frame decodes to the battery alone', () => {
    const frame = getModel('decentlab-dl-mbx').encode({ batteryV: 2.9 });
    const out = decodeBuiltin('decentlab-dl-mbx', { ...frame, params: {} });
    expect(out).toEqual({ ok: true, values: { battery_v: 2.9 } });
  });
});
