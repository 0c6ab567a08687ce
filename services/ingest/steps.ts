// The stateful ingest steps (counters, quality) and codec runners, behind one small interface so the
// pipeline stays a readable checklist and tests can swap parts.
import type { Reading } from '../../alerts/types.ts';
import type { Device } from '../devices/device-registry.ts';
import type { DecodedCounter, DecodeResult } from './codecs/index.ts';
import type { LoraUplink } from './envelopes.ts';
import type { QualityResult } from './quality.ts';

export interface Steps {
  /** cumulative/relative tip counter → rain_mm (undefined on the baseline uplink) and the state to persist */
  counter(device: Device, c: DecodedCounter, time: number): { rainMm?: number; state?: { count: number; bits: number }; sinceMs?: number };
  /** adds level_cm from distance_mm or pressure_bar where the device's params allow */
  derive(device: Device, values: Record<string, number>, time: number): void;
  /** quality bit flags for one reading (alerts/types.ts Quality), and a held spike it confirmed;
   *  `sinceMs`: the span the value covers when known (rain from a counter: since its previous read) */
  quality(device: Device, r: Reading, sinceMs?: number): QualityResult;
  jsCodec(device: Device, up: LoraUplink): Promise<DecodeResult> | DecodeResult;
  mapObject(device: Device, object: Record<string, unknown>): DecodeResult;
}
