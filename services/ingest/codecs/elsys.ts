// Elsys ELT-2 / ELT Lite / ELT Ultrasonic: [type][fixed-length data] TLV, big-endian [docs/reference/lorawan.md 4.7].
// Elsys sends on a configurable port (5 by default, 1 in the codec examples), so no fPort is enforced.
import { type DecodedCounter, type DecodeInput, type DecodeResult, fail, ok, round } from './types.ts';

type Values = Record<string, number>;
interface Counters {
  abs?: number;
  rel?: number;
}

// Data length per record type. Every documented type needs its length here, even unused ones, so the
// records after it stay aligned.
const LENGTHS: Record<number, number> = {
  0x01: 2, // temperature int16 /10
  0x02: 1, // humidity %
  0x03: 3, // accelerometer x, y, z
  0x04: 2, // light
  0x05: 1, // motion
  0x06: 2, // CO2
  0x07: 2, // vdd mV
  0x08: 2, // analog1
  0x09: 6, // GPS
  0x0a: 2, // pulse1, count since last uplink
  0x0b: 4, // pulse1 absolute
  0x0c: 2, // external temperature int16 /10
  0x0d: 1, // digital input
  0x0e: 2, // external distance mm (ELT Ultrasonic)
  0x0f: 1, // acc motion
  0x10: 4, // IR temperature
  0x11: 1, // occupancy
  0x12: 1, // waterleak
  0x13: 65, // grideye
  0x14: 4, // pressure uint32 /1000
  0x15: 2, // sound
  0x16: 2, // pulse2
  0x17: 4, // pulse2 absolute
  0x18: 2, // analog2
  0x19: 2, // external temperature 2
  0x1a: 1, // digital2
  0x1b: 4, // analog µV
  0x1c: 2, // TVOC
  0x3d: 4, // debug
};

function read(type: number, b: Buffer, at: number, out: Values, counters: Counters): void {
  switch (type) {
    case 0x01:
      out.temperature_c = round(b.readInt16BE(at) / 10);
      break;
    case 0x02:
      out.x_humidity_pct = b[at];
      break;
    case 0x07:
      out.battery_v = round(b.readUInt16BE(at) / 1000);
      break;
    case 0x0a:
      counters.rel = b.readUInt16BE(at);
      break;
    case 0x0b:
      counters.abs = b.readUInt32BE(at);
      break;
    case 0x0c:
      out.x_ext_temperature_c = round(b.readInt16BE(at) / 10);
      break;
    case 0x0e:
      out.distance_mm = b.readUInt16BE(at);
      break;
    case 0x14:
      // Barometric air pressure, not a level probe's gauge pressure, so never pressure_bar. The unit of
      // the /1000 value is doubtful (the example 100729.105 reads like Pa); kept as the vendor gives it.
      out.x_air_pressure = round(b.readUInt32BE(at) / 1000);
      break;
  }
}

/**
 * A tipping bucket on pulse input 1 gives the rain. The absolute count survives lost uplinks (the
 * difference still holds every tip), so it wins over the relative one when a frame carries both.
 */
export function decodeElsys(model: string, { bytes }: DecodeInput): DecodeResult {
  if (bytes.length === 0) return fail('decode_error', `${model}: empty frame`);
  const values: Values = {};
  const counters: Counters = {};
  for (let i = 0; i < bytes.length; ) {
    const len = LENGTHS[bytes[i]];
    if (len === undefined) {
      // Like elsys.js: an unknown type ends parsing (its length is unknown), earlier records still count.
      if (i > 0) break;
      return fail('decode_error', `${model}: unknown record type 0x${bytes[i].toString(16).padStart(2, '0')}`);
    }
    if (i + 1 + len > bytes.length) return fail('decode_error', `${model}: truncated record at byte ${i}`);
    read(bytes[i], bytes, i + 1, values, counters);
    i += 1 + len;
  }
  let counter: DecodedCounter | undefined;
  if (counters.abs !== undefined) counter = { count: counters.abs, bits: 32 };
  else if (counters.rel !== undefined) counter = { count: counters.rel, bits: 16, relative: true };
  return ok(values, counter);
}
