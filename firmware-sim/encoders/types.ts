// What a simulated sensor "measured" at one uplink; each encoder turns it into its vendor's real bytes.

export interface SensorReading {
  /** sensor face to water surface */
  distanceMm?: number;
  /** gauge pressure of a submersible probe */
  pressureBar?: number;
  temperatureC?: number;
  batteryV?: number;
  /** devices that report percent (Milesight, SenseCAP); derived from batteryV when absent */
  batteryPct?: number;
  /** cumulative tipping-bucket pulses since the counter last started (Dragino SN50v3, Elsys 0x0B) */
  tipCount?: number;
  /** precipitation since the previous uplink (Decentlab ATM41, SenseCAP S2120 report depth, not pulses) */
  rainMm?: number;
  /** vendor-specific fields needed only to reproduce published frames exactly (device id, humidity, …) */
  extra?: Record<string, number>;
}

export interface EncodedFrame {
  fPort: number;
  bytes: Buffer;
}

export type SensorKind = 'rain' | 'level';

export interface ModelSpec {
  model: string;
  kind: SensorKind;
  /** what the device reports for its kind; drives the simulated sensor */
  measures: 'tipCount' | 'rainMm' | 'distanceMm' | 'pressureBar';
  /** nominal full and empty battery voltage, for percent and low-battery faults */
  batteryFullV: number;
  batteryEmptyV: number;
  /** bits of the pulse counter (wrap) */
  counterBits?: number;
  encode(r: SensorReading): EncodedFrame;
}

export const clampInt = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(v)));

export function batteryPct(r: SensorReading, spec: Pick<ModelSpec, 'batteryFullV' | 'batteryEmptyV'>): number {
  if (r.batteryPct !== undefined) return clampInt(r.batteryPct, 0, 100);
  if (r.batteryV === undefined) return 100;
  return clampInt(((r.batteryV - spec.batteryEmptyV) / (spec.batteryFullV - spec.batteryEmptyV)) * 100, 0, 100);
}
