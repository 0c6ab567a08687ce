// Dragino LDDS75/LDDS20 (v1.1.4 firmware, 8 bytes) and SN50v3-LB in mode 5 "1Count" (docs/reference/lorawan.md §4.3, §4.4).
// fPort 2, big-endian.
import type { ModelSpec, SensorReading } from './types.ts';
import { clampInt } from './types.ts';

const batteryMv = (r: SensorReading): number => clampInt((r.batteryV ?? 3.6) * 1000, 0, 0x3fff);

function ldds(model: string): ModelSpec {
  return {
    model,
    kind: 'level',
    measures: 'distanceMm',
    batteryFullV: 3.6,
    batteryEmptyV: 3.0,
    encode: (r) => {
      const b = Buffer.alloc(8);
      b.writeUInt16BE(batteryMv(r), 0);
      b.writeUInt16BE(clampInt(r.distanceMm ?? 0, 0, 0xffff), 2);
      b[4] = clampInt(r.extra?.interruptFlag ?? 0, 0, 255);
      // No DS18B20 attached reads as 0 (decoded "0.00"), which is what the vendor example shows.
      b.writeInt16BE(clampInt((r.temperatureC ?? 0) * 10, -32768, 32767), 5);
      b[7] = clampInt(r.extra?.sensorFlag ?? 1, 0, 255);
      return { fPort: 2, bytes: b };
    },
  };
}

export const ldds75 = ldds('dragino-ldds75');
export const ldds20 = ldds('dragino-ldds20');

const MODE_1COUNT = 5;

export const sn50v3Count: ModelSpec = {
  model: 'dragino-sn50v3-count',
  kind: 'rain',
  measures: 'tipCount',
  batteryFullV: 3.6,
  batteryEmptyV: 3.0,
  counterBits: 32,
  encode: (r) => {
    const b = Buffer.alloc(11);
    b.writeUInt16BE(batteryMv(r), 0);
    // 0x7FFF is the firmware's "no probe" marker for the DS18B20 temperature
    b.writeUInt16BE(r.temperatureC === undefined ? 0x7fff : clampInt(r.temperatureC * 10, -32768, 32767) & 0xffff, 2);
    b.writeUInt16BE(clampInt(r.extra?.adcMv ?? 0, 0, 0xffff), 4);
    b[6] = (MODE_1COUNT << 2) | (clampInt(r.extra?.statusBits ?? 0, 0, 0x83) & 0x83);
    b.writeUInt32BE((r.tipCount ?? 0) >>> 0, 7);
    return { fPort: 2, bytes: b };
  },
};
