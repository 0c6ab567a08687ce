// Decentlab protocol v2 frames (DL-MBX, DL-PR26, DL-PR36, DL-ATM41) [docs/reference/lorawan.md 4.1].
import { type DecodeInput, type DecodeResult, fail, numParam, ok, round, truncated, wrongPort } from './types.ts';

type Values = Record<string, number>;
/** One sensor group: `length` big-endian uint16 words, turned into canonical values. */
interface Group {
  length: number;
  read(words: number[], params: Record<string, unknown>, out: Values): void;
}

// The battery group is always the last one; mV → V [docs/reference/lorawan.md 4.1 "last group"].
const battery: Group = {
  length: 1,
  read: (w, _p, out) => {
    out.battery_v = round(w[0] / 1000);
  },
};

const mbx: Group[] = [
  {
    length: 2,
    read: ([distance, samples], _p, out) => {
      out.x_valid_samples = samples;
      // With zero valid echoes the distance word is not a measurement; emitting it would read as a level.
      if (samples > 0) out.distance_mm = distance;
    },
  },
  battery,
];

const pr26: Group[] = [
  {
    length: 2,
    read: ([p, t], params, out) => {
      // Pmin/Pmax are the range variant of the probe (codec dl-pr26-0-1 = 0..1 bar).
      const pMin = numParam(params, 'pMin', 0);
      const pMax = numParam(params, 'pMax', 1);
      out.pressure_bar = round(((p - 16384) / 32768) * (pMax - pMin) + pMin, 9);
      out.temperature_c = round((t - 384) * 0.003125 - 50, 9);
    },
  },
  battery,
];

const pr36: Group[] = [
  {
    length: 2,
    read: ([p, t], params, out) => {
      const kp = numParam(params, 'kp', 8192); // codec dl-pr36-8192
      out.pressure_bar = round((p - 32768) / kp, 9);
      out.temperature_c = round((t - 32768) / 256, 9);
    },
  },
  battery,
];

// 17 words, each (w − 32768) / divisor, in this order [docs/reference/lorawan.md 4.1 DL-ATM41].
const ATM41_WORDS: ReadonlyArray<[string, number]> = [
  ['x_solar_radiation_w_m2', 1],
  ['rain_mm', 1000], // precipitation since the previous measurement, reported by the device itself
  ['x_lightning_strikes', 1],
  ['x_lightning_distance_km', 1],
  ['x_wind_speed_m_s', 100],
  ['x_wind_direction_deg', 10],
  ['x_max_wind_speed_m_s', 100],
  ['temperature_c', 10], // air temperature
  ['x_vapor_pressure_kpa', 100],
  ['x_air_pressure_kpa', 100],
  ['x_humidity_pct', 10],
  ['x_internal_temperature_c', 10],
  ['x_x_orientation_deg', 10],
  ['x_y_orientation_deg', 10],
  ['x_compass_heading_deg', 1],
  ['x_north_wind_speed_m_s', 100],
  ['x_east_wind_speed_m_s', 100],
];
const atm41: Group[] = [
  {
    length: ATM41_WORDS.length,
    read: (words, _p, out) => {
      ATM41_WORDS.forEach(([name, div], i) => {
        out[name] = round((words[i] - 32768) / div);
      });
    },
  },
  battery,
];

export const DECENTLAB_MODELS: Record<string, Group[]> = {
  'decentlab-dl-mbx': mbx,
  'decentlab-dl-pr26': pr26,
  'decentlab-dl-pr36': pr36,
  'decentlab-dl-atm41': atm41,
};

export function decodeDecentlab(model: string, { bytes, fPort, params }: DecodeInput): DecodeResult {
  const groups = DECENTLAB_MODELS[model];
  if (!groups) return fail('codec_error', `unknown Decentlab model ${model}`);
  if (fPort !== 1) return wrongPort(model, fPort, [1]);
  if (bytes.length < 5) return truncated(model, 5, bytes.length);
  if (bytes[0] !== 2) return fail('decode_error', `${model}: protocol version ${bytes[0]} doesn't match v2`);
  const flags = bytes.readUInt16BE(3);
  if (flags >> groups.length !== 0) {
    return fail('decode_error', `${model}: sensor flags 0x${flags.toString(16)} name groups this device does not have`);
  }
  const need = 5 + 2 * groups.reduce((n, g, i) => (flags & (1 << i) ? n + g.length : n), 0);
  if (bytes.length < need) return truncated(model, need, bytes.length);

  const values: Values = {}; // bytes 1–2 (device id) identify the unit, not a measurement
  let pos = 5;
  groups.forEach((group, i) => {
    if (!(flags & (1 << i))) return;
    const words: number[] = [];
    for (let k = 0; k < group.length; k++, pos += 2) words.push(bytes.readUInt16BE(pos));
    group.read(words, params, values);
  });
  return ok(values);
}
