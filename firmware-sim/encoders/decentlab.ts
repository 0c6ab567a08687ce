// Decentlab protocol v2 (docs/reference/lorawan.md §4.1): version 2, device id, sensor flags, then uint16 BE words per
// present sensor group; the battery group (mV) is always last. fPort 1.
import type { EncodedFrame, ModelSpec, SensorReading } from './types.ts';
import { clampInt } from './types.ts';

const word = (v: number): number => clampInt(v, 0, 0xffff);

function frame(deviceId: number, groups: Array<number[] | undefined>, batteryV: number | undefined): EncodedFrame {
  const words: number[] = [];
  let flags = 0;
  groups.forEach((g, i) => {
    if (!g) return;
    flags |= 1 << i;
    words.push(...g.map(word));
  });
  flags |= 1 << groups.length; // battery group bit follows the sensor groups
  words.push(word((batteryV ?? 3.0) * 1000));
  const b = Buffer.alloc(5 + words.length * 2);
  b[0] = 2;
  b.writeUInt16BE(word(deviceId), 1);
  b.writeUInt16BE(flags, 3);
  words.forEach((w, i) => b.writeUInt16BE(w, 5 + i * 2));
  return { fPort: 1, bytes: b };
}

const devId = (r: SensorReading): number => r.extra?.deviceId ?? 1;
const base = { batteryFullV: 3.2, batteryEmptyV: 2.5 } as const;

export const dlMbx: ModelSpec = {
  ...base,
  model: 'decentlab-dl-mbx',
  kind: 'level',
  measures: 'distanceMm',
  encode: (r) => frame(devId(r), [r.distanceMm === undefined ? undefined : [r.distanceMm, r.extra?.validSamples ?? 1]], r.batteryV),
};

/** DL-PR26 range variant 0..1 bar (codec dl-pr26-0-1); params.pMin/pMax would select other variants. */
export const PR26_RANGE = { pMin: 0, pMax: 1 };

export const dlPr26: ModelSpec = {
  ...base,
  model: 'decentlab-dl-pr26',
  kind: 'level',
  measures: 'pressureBar',
  encode: (r) => {
    const { pMin, pMax } = PR26_RANGE;
    const g =
      r.pressureBar === undefined ? undefined : [((r.pressureBar - pMin) / (pMax - pMin)) * 32768 + 16384, ((r.temperatureC ?? 15) + 50) / 0.003125 + 384];
    return frame(devId(r), [g], r.batteryV);
  },
};

/** DL-PR36 with kp = 8192 (codec dl-pr36-8192). */
export const dlPr36: ModelSpec = {
  ...base,
  model: 'decentlab-dl-pr36',
  kind: 'level',
  measures: 'pressureBar',
  encode: (r) => {
    const g = r.pressureBar === undefined ? undefined : [r.pressureBar * 8192 + 32768, (r.temperatureC ?? 15) * 256 + 32768];
    return frame(devId(r), [g], r.batteryV);
  },
};

/** DL-ATM41 17-word order and scale (value = (w − 32768) / scale); precipitation is mm since the last uplink. */
export const ATM41_FIELDS: Array<[string, number]> = [
  ['solarRadiation', 1],
  ['precipitation', 1000],
  ['lightningStrikeCount', 1],
  ['lightningAverageDistance', 1],
  ['windSpeed', 100],
  ['windDirection', 10],
  ['maximumWindSpeed', 100],
  ['airTemperature', 10],
  ['vaporPressure', 100],
  ['atmosphericPressure', 100],
  ['relativeHumidity', 10],
  ['sensorTemperatureInternal', 10],
  ['xOrientationAngle', 10],
  ['yOrientationAngle', 10],
  ['compassHeading', 1],
  ['northWindSpeed', 100],
  ['eastWindSpeed', 100],
];

const ATM41_DEFAULTS: Record<string, number> = { atmosphericPressure: 98.5, relativeHumidity: 85, vaporPressure: 1.5 };

export const dlAtm41: ModelSpec = {
  ...base,
  model: 'decentlab-dl-atm41',
  kind: 'rain',
  measures: 'rainMm',
  encode: (r) => {
    const x = r.extra ?? {};
    const hasWeather = r.rainMm !== undefined || ATM41_FIELDS.some(([k]) => x[k] !== undefined);
    if (!hasWeather) return frame(devId(r), [undefined], r.batteryV);
    const v = (k: string): number => {
      if (k === 'precipitation') return r.rainMm ?? x[k] ?? 0;
      if (k === 'airTemperature') return x[k] ?? r.temperatureC ?? 15;
      if (k === 'sensorTemperatureInternal') return x[k] ?? r.temperatureC ?? 15;
      return x[k] ?? ATM41_DEFAULTS[k] ?? 0;
    };
    return frame(devId(r), [ATM41_FIELDS.map(([k, s]) => v(k) * s + 32768)], r.batteryV);
  },
};
