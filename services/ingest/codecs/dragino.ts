// Dragino LDDS75 / LDDS20 (ultrasonic distance) and SN50v3-LB in pulse-count mode, fPort 2, big-endian.
import { type DecodeInput, type DecodeResult, fail, ok, round, truncated, wrongPort } from './types.ts';

const DATA_PORT = 2;

/**
 * LDDS75 and LDDS20 share the v1.1.4 8-byte layout [docs/reference/lorawan.md 4.3]. Distance 0 ("No Sensor") and
 * 20 ("Invalid Reading") are status codes, not distances: the distance is left out and the code kept as
 * x_distance_fault (1 = no sensor, 2 = invalid reading), so the battery reading still arrives and the
 * fault stays visible, while no level is ever derived from a status code.
 */
export function decodeLdds(model: string, { bytes, fPort }: DecodeInput): DecodeResult {
  if (fPort !== DATA_PORT) return wrongPort(model, fPort, [DATA_PORT]);
  if (bytes.length < 8) return truncated(model, 8, bytes.length);
  const values: Record<string, number> = {
    battery_v: round((bytes.readUInt16BE(0) & 0x3fff) / 1000), // top two bits are flags
  };
  const distance = bytes.readUInt16BE(2);
  if (distance === 0) values.x_distance_fault = 1;
  else if (distance === 20) values.x_distance_fault = 2;
  else values.distance_mm = distance;
  // A raw 0 means no DS18B20 probe is connected (the vendor decoder prints "0.00"); a real 0.0 °C is
  // indistinguishable and rare enough to give up, whereas a fake 0 °C series would mislead.
  const temp = bytes.readInt16BE(5);
  if (temp !== 0) values.temperature_c = round(temp / 10);
  return ok(values);
}

const SN50_COUNT_MODE = 5; // "1Count" [docs/reference/lorawan.md 4.4]
const TEMP_NULL = 0x7fff;

/**
 * SN50v3-LB, mode 5: bytes 0–1 battery mV, 2–3 temperature int16/10 (0x7FFF = none), 4–5 ADC1 mV,
 * 6 mode flags, 7–10 cumulative pulse count uint32 [docs/reference/lorawan.md 4.4]. The count goes to `counter`:
 * rain_mm needs the previous count, which only the derive step has.
 */
export function decodeSn50v3Count(model: string, { bytes, fPort }: DecodeInput): DecodeResult {
  if (fPort !== DATA_PORT) return wrongPort(model, fPort, [DATA_PORT]);
  if (bytes.length < 7) return truncated(model, 7, bytes.length);
  const mode = (bytes[6] & 0x7c) >> 2;
  if (mode !== SN50_COUNT_MODE) {
    return fail('decode_error', `${model}: payload mode ${mode} (AT+MOD=${mode + 1}) is not pulse-count mode 5 (AT+MOD=6)`);
  }
  if (bytes.length < 11) return truncated(model, 11, bytes.length);
  const values: Record<string, number> = {
    battery_v: round(bytes.readUInt16BE(0) / 1000),
  };
  const temp = bytes.readInt16BE(2);
  if (temp !== TEMP_NULL) values.temperature_c = round(temp / 10);
  return ok(values, { count: bytes.readUInt32BE(7), bits: 32 });
}
