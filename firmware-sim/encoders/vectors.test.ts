// The vendors' published example frames must come out of our encoders byte for byte (docs/reference/lorawan.md §4).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getModel, type SensorReading } from './index.ts';
import { crc16Kermit } from './sensecap.ts';

const VECTORS = fileURLToPath(new URL('../../test/fixtures/vectors', import.meta.url));
const vector = (file: string, i: number): { fPort: number; bytesHex: string } => JSON.parse(readFileSync(`${VECTORS}/${file}.json`, 'utf8'))[i];

const atm41Weather = {
  deviceId: 858,
  solarRadiation: 10,
  precipitation: 0,
  windSpeed: 0.09,
  windDirection: 29.9,
  maximumWindSpeed: 0.2,
  airTemperature: 26.4,
  vaporPressure: 1.8,
  atmosphericPressure: 95.96,
  relativeHumidity: 52.4,
  sensorTemperatureInternal: 26.5,
  xOrientationAngle: 0.2,
  yOrientationAngle: -2.4,
  compassHeading: 86,
  northWindSpeed: 0.08,
  eastWindSpeed: 0.04,
};

// [model, vector file, index, reading that the example frame describes]
const cases: Array<[string, string, number, SensorReading]> = [
  ['decentlab-dl-mbx', 'decentlab-dl-mbx', 0, { distanceMm: 1234, batteryV: 2.993, extra: { deviceId: 303, validSamples: 1 } }],
  ['decentlab-dl-mbx', 'decentlab-dl-mbx', 1, { batteryV: 2.993, extra: { deviceId: 303 } }],
  ['decentlab-dl-pr26', 'decentlab-dl-pr26', 0, { pressureBar: -0.01171875, temperatureC: 25.671875, batteryV: 3.199, extra: { deviceId: 359 } }],
  ['decentlab-dl-pr26', 'decentlab-dl-pr26', 1, { batteryV: 3.199, extra: { deviceId: 359 } }],
  ['decentlab-dl-atm41', 'decentlab-dl-atm41', 0, { batteryV: 3.061, extra: atm41Weather }],
  ['decentlab-dl-atm41', 'decentlab-dl-atm41', 1, { batteryV: 3.061, extra: { deviceId: 858 } }],
  ['dragino-ldds75', 'dragino-ldds75', 0, { batteryV: 3.387, distanceMm: 2799 }],
  ['milesight-em310-udl', 'milesight-em310-udl', 0, { batteryPct: 92, distanceMm: 2116, extra: { tilt: 1 } }],
  ['milesight-em500-udl', 'milesight-em500-udl', 0, { batteryPct: 92, distanceMm: 30 }],
  ['milesight-em500-udl', 'milesight-em500-udl', 1, { batteryPct: 100, distanceMm: 30 }],
  // The ELT-2 example is written for fPort 1 (real devices default to 5).
  ['sensecap-s2120', 'sensecap-s2120', 1, { temperatureC: 21.4, extra: { humidity: 31.4, fPort: 1 } }],
  ['elsys-elt', 'elsys-elt-2', 0, { temperatureC: 22.6, extra: { humidity: 41, accX: 1, accY: 39, accZ: 5, pressure: 100729.105, fPort: 1 } }],
];

describe('vendor example frames are reproduced byte for byte', () => {
  it.each(cases)('%s ← %s[%i]', (model, file, i, reading) => {
    const v = vector(file, i);
    const out = getModel(model).encode(reading);
    expect(out.bytes.toString('hex').toUpperCase()).toBe(v.bytesHex.toUpperCase());
    expect(out.fPort).toBe(v.fPort);
  });
});

// Frames without a published valid example (docs/reference/lorawan.md: SN50v3 templates are invalid, S2120 examples use
// the V2 frame, LDDS20 and PR36 frames are held back): pin the layout from the documented field table.
describe('documented layouts without a usable vendor example', () => {
  it('SN50v3 mode 5: uint32 BE count in bytes 7–10, mode bits in byte 6', () => {
    const f = getModel('dragino-sn50v3-count').encode({ batteryV: 3.456, tipCount: 0x01020304 });
    expect(f.fPort).toBe(2);
    expect(f.bytes.toString('hex')).toBe('0d807fff0000' + '14' + '01020304');
  });
  it('DL-PR36: (w0 − 32768)/8192 bar, (w1 − 32768)/256 °C', () => {
    const f = getModel('decentlab-dl-pr36').encode({ pressureBar: 0.5, temperatureC: 10, batteryV: 3.0, extra: { deviceId: 1 } });
    expect(f.bytes.toString('hex')).toBe('020001' + '0003' + '9000' + '8a00' + '0bb8');
  });
  it('S2120 V2 frame CRC-16/KERMIT matches every vendor frame', () => {
    for (let i = 0; i < 3; i++) {
      const b = Buffer.from(vector('sensecap-s2120', i).bytesHex, 'hex');
      expect(crc16Kermit(b.subarray(0, -2))).toBe(b.readUInt16LE(b.length - 2));
    }
  });
  it('S2120 V2 frame: 4213 accumulated rain in 0.001 mm, battery record like the vendor example', () => {
    const f = getModel('sensecap-s2120').encode({ tipCount: 1234, batteryPct: 100, extra: { intervalMin: 60 } });
    expect(f.bytes.toString('hex').toUpperCase()).toBe('017510' + '10C40300' + '000700' + '64003C00' + f.bytes.subarray(-2).toString('hex').toUpperCase());
    expect(f.bytes.readUInt32LE(3)).toBe(246800); // 1234 tips × 0.2 mm = 246.8 mm
  });
  it('S2120 packet-ID format: 0x02 record carries rainfall (intensity) uint32 /1000', () => {
    const f = getModel('sensecap-s2120').encode({ batteryPct: 88, extra: { packetFormat: 1, rainIntensityMmH: 12.4, windDirection: 90, pressurePa: 100000 } });
    const b = f.bytes;
    expect(b[11]).toBe(0x02);
    expect(b.readUInt16BE(12)).toBe(90);
    expect(b.readUInt32BE(14)).toBe(12400);
    expect(b.readUInt16BE(18)).toBe(10000);
    expect([b[20], b[21]]).toEqual([0x03, 88]);
  });
  it('Elsys: 0x07 vdd, 0x0B pulse abs uint32, 0x0E distance', () => {
    const f = getModel('elsys-elt').encode({ batteryV: 3.466, tipCount: 70000, distanceMm: 1500 });
    expect(f.fPort).toBe(5);
    expect(f.bytes.toString('hex')).toBe('070d8a' + '0b00011170' + '0e05dc');
  });
});
