// SenseCAP S2120 8-in-1 weather station [docs/reference/lorawan.md 4.6]. Two frame formats exist in the wild:
// the SenseCAP LoRaWAN V2 frame (7-byte records + CRC16) and the older packet-ID format.
import { type DecodedCounter, type DecodeInput, type DecodeResult, fail, ok, round } from './types.ts';

type Values = Record<string, number>;
interface Decoded {
  values: Values;
  counter?: DecodedCounter;
}

// SenseCAP measurement IDs → our metrics. 4113 "Rain Gauge" is the vendor's hourly rain *intensity*
// (mm/h), not rain since the previous uplink, so it is kept as x_ info and never summed as rain_mm.
const MEASUREMENTS: Record<number, string> = {
  4097: 'temperature_c', // air temperature
  4098: 'x_humidity_pct',
  4099: 'x_light_lux',
  4190: 'x_uv_index',
  4105: 'x_wind_speed_m_s',
  4104: 'x_wind_direction_deg',
  4113: 'x_rain_intensity_mm_h',
  4101: 'x_air_pressure_pa',
};
// 4213 accumulated rainfall (mm, 0.001 resolution, cumulative since power-on; newer firmware, not in any
// vendor example here): a counter in 0.001 mm units, so the derive step takes differences and handles
// resets exactly as for tip counters.
const RAIN_ACCUMULATED = 4213;
const UPLOAD_BATTERY = 0x0007;

/** CRC-16/KERMIT (reflected 0x1021, init 0), stored little-endian; checked against all three vendor frames. */
export function crc16Kermit(bytes: Buffer): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc;
}

function isV2Frame(bytes: Buffer): boolean {
  const body = bytes.length - 2;
  return body >= 7 && body % 7 === 0 && crc16Kermit(bytes.subarray(0, body)) === bytes.readUInt16LE(body);
}

/** V2 frame: channel u8 | measurementId u16 LE | value i32 LE (/1000), then CRC16. */
function decodeV2(bytes: Buffer): Decoded {
  const out: Decoded = { values: {} };
  for (let i = 0; i + 7 <= bytes.length - 2; i += 7) {
    const id = bytes.readUInt16LE(i + 1);
    const raw = bytes.readInt32LE(i + 3);
    if (id === UPLOAD_BATTERY) out.values.battery_pct = bytes[i + 3];
    else if (id === RAIN_ACCUMULATED) out.counter = { count: raw >>> 0, bits: 32, mmPerCount: 0.001 };
    else if (MEASUREMENTS[id]) out.values[MEASUREMENTS[id]] = round(raw / 1000);
    // other ids below 0x1000 are device info (versions, sensor id, interval) and carry no reading
  }
  return out;
}

// Packet-ID format (big-endian, signed): id → payload length [sensecap2120-8-in-1-decoder.js].
const PACKET_LENGTHS: Record<number, number> = {
  0x01: 10,
  0x02: 8,
  0x03: 1,
  0x06: 1,
  0x05: 4,
  0x04: 9,
  0x10: 9,
};
for (const id of [0x20, 0x21, 0x30, 0x31, 0x33, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45]) PACKET_LENGTHS[id] = 10;
for (const id of [0x32, 0x35, 0x36, 0x37, 0x38, 0x39]) PACKET_LENGTHS[id] = 9;
PACKET_LENGTHS[0x34] = 4;

function readPacket(id: number, b: Buffer, at: number, v: Values): void {
  if (id === 0x01) {
    v.temperature_c = round(b.readInt16BE(at) / 10);
    v.x_humidity_pct = b[at + 2];
    v.x_light_lux = b.readUInt32BE(at + 3);
    v.x_uv_index = round(b[at + 7] / 10);
    v.x_wind_speed_m_s = round(b.readInt16BE(at + 8) / 10);
  } else if (id === 0x02) {
    v.x_wind_direction_deg = b.readInt16BE(at);
    v.x_rain_intensity_mm_h = round(b.readInt32BE(at + 2) / 1000);
    v.x_air_pressure_pa = b.readUInt16BE(at + 6) * 10;
  } else if (id === 0x03 || id === 0x04) {
    v.battery_pct = b[at];
  }
}

function decodePackets(model: string, bytes: Buffer): Decoded | string {
  const values: Values = {};
  for (let i = 0; i < bytes.length; ) {
    const len = PACKET_LENGTHS[bytes[i]];
    if (len === undefined) return `${model}: unknown packet id 0x${bytes[i].toString(16).padStart(2, '0')} at byte ${i}`;
    if (i + 1 + len > bytes.length) return `${model}: truncated packet at byte ${i}`;
    readPacket(bytes[i], bytes, i + 1, values);
    i += 1 + len;
  }
  return { values };
}

export function decodeS2120(model: string, { bytes }: DecodeInput): DecodeResult {
  // The S2120 uses port 3 for data and others for device info depending on firmware; the frame itself
  // (CRC or packet ids) is the reliable discriminator, so no fPort is enforced.
  if (bytes.length === 0) return fail('decode_error', `${model}: empty frame`);
  const decoded = isV2Frame(bytes) ? decodeV2(bytes) : decodePackets(model, bytes);
  if (typeof decoded === 'string') return fail('decode_error', decoded);
  return ok(decoded.values, decoded.counter);
}
