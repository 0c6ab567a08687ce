// SenseCAP S2120 8-in-1 weather station (docs/reference/lorawan.md §4.6). Two real frame formats:
// - V2 frame (default): records `channel u8 | measurementId u16 LE | value i32 LE ×1000`, then CRC-16/KERMIT
//   LE. Rain goes out as 4213 accumulated rainfall (cumulative mm, 0.001 resolution), which the ingest
//   decoder turns into rain_mm like a tip counter.
// - packet-ID format (decoder sensecap2120-8-in-1-decoder.js), big-endian: 0x01 + 10 bytes (temperature,
//   humidity, light, UV, wind speed), 0x02 + 8 bytes (wind direction, rainfall uint32 /1000, pressure /10 Pa),
//   0x03 + battery %. Its rainfall is the vendor's rain intensity [mm/h], so it is encoded as such.
//   Selected with extra.packetFormat = 1.
// Data uplinks use fPort 3 (unverified; the decoders ignore fPort).
import type { EncodedFrame, ModelSpec, SensorReading } from './types.ts';
import { batteryPct, clampInt } from './types.ts';

const spec = { batteryFullV: 4.2, batteryEmptyV: 3.3 } as const;

export const S2120_IDS = { temperature: 4097, humidity: 4098, rainIntensity: 4113, rainAccumulated: 4213, battery: 7 };

export function crc16Kermit(bytes: Buffer): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc;
}

export function encodeS2120V2(r: SensorReading): EncodedFrame {
  const x = r.extra ?? {};
  const records: Buffer[] = [];
  const rec = (channel: number, id: number, write: (b: Buffer) => void): void => {
    const b = Buffer.alloc(7);
    b[0] = channel;
    b.writeUInt16LE(id, 1);
    write(b);
    records.push(b);
  };
  const milli = (v: number) => (b: Buffer) => b.writeInt32LE(clampInt(v * 1000, -(2 ** 31), 2 ** 31 - 1), 3);
  if (r.temperatureC !== undefined) rec(1, S2120_IDS.temperature, milli(r.temperatureC));
  if (x.humidity !== undefined) rec(1, S2120_IDS.humidity, milli(x.humidity));
  if (x.rainIntensityMmH !== undefined) rec(1, S2120_IDS.rainIntensity, milli(x.rainIntensityMmH));
  if (r.tipCount !== undefined) {
    const mm = r.tipCount * (x.mmPerTip ?? 0.2);
    // the device counts 0.001 mm in an int32 that wraps like any counter
    rec(1, S2120_IDS.rainAccumulated, (b) => b.writeUInt32LE(Math.round(mm * 1000) % 2 ** 32, 3));
  }
  if (r.batteryV !== undefined || r.batteryPct !== undefined) {
    // upload_battery: battery %, a zero byte, then the measurement interval in minutes (u16 LE)
    rec(0, S2120_IDS.battery, (b) => {
      b[3] = batteryPct(r, spec);
      b.writeUInt16LE(clampInt(x.intervalMin ?? 5, 0, 0xffff), 5);
    });
  }
  const body = Buffer.concat(records);
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crc16Kermit(body));
  return { fPort: x.fPort ?? 3, bytes: Buffer.concat([body, crc]) };
}

export function encodeS2120Packets(r: SensorReading): EncodedFrame {
  const x = r.extra ?? {};
  const b = Buffer.alloc(11 + 9 + 2);
  b[0] = 0x01;
  b.writeInt16BE(clampInt((r.temperatureC ?? 15) * 10, -32768, 32767), 1);
  b[3] = clampInt(x.humidity ?? 80, 0, 100);
  b.writeUInt32BE(clampInt(x.light ?? 0, 0, 0x7fffffff), 4);
  b[8] = clampInt((x.uv ?? 0) * 10, 0, 127);
  b.writeUInt16BE(clampInt((x.windSpeed ?? 0) * 10, 0, 0x7fff), 9);
  b[11] = 0x02;
  b.writeUInt16BE(clampInt(x.windDirection ?? 0, 0, 359), 12);
  b.writeUInt32BE(clampInt((x.rainIntensityMmH ?? 0) * 1000, 0, 0x7fffffff), 14);
  b.writeUInt16BE(clampInt((x.pressurePa ?? 98500) / 10, 0, 0x7fff), 18);
  b[20] = 0x03;
  b[21] = batteryPct(r, spec);
  return { fPort: x.fPort ?? 3, bytes: b };
}

export const s2120: ModelSpec = {
  ...spec,
  model: 'sensecap-s2120',
  kind: 'rain',
  measures: 'tipCount',
  counterBits: 32,
  encode: (r) => (r.extra?.packetFormat ? encodeS2120Packets(r) : encodeS2120V2(r)),
};
