// Milesight channel/type TLV, little-endian, fPort 85 (docs/reference/lorawan.md §4.2).
import type { ModelSpec } from './types.ts';
import { batteryPct, clampInt } from './types.ts';

const spec = { kind: 'level', measures: 'distanceMm', batteryFullV: 3.6, batteryEmptyV: 3.0 } as const;

export const em310Udl: ModelSpec = {
  ...spec,
  model: 'milesight-em310-udl',
  encode: (r) => {
    const b = Buffer.alloc(10);
    b.set([0x01, 0x75, batteryPct(r, spec)], 0);
    b.set([0x03, 0x82], 3);
    b.writeUInt16LE(clampInt(r.distanceMm ?? 0, 0, 0xffff), 5); // mm
    b.set([0x04, 0x00, clampInt(r.extra?.tilt ?? 0, 0, 1)], 7); // position: 0 normal, 1 tilt
    return { fPort: 85, bytes: b };
  },
};

export const em500Udl: ModelSpec = {
  ...spec,
  model: 'milesight-em500-udl',
  encode: (r) => {
    const b = Buffer.alloc(7);
    b.set([0x01, 0x75, batteryPct(r, spec)], 0);
    b.set([0x03, 0x82], 3);
    // int16 LE that the vendor decoder divides by 1000 to metres, i.e. millimetres on the wire
    b.writeInt16LE(clampInt(r.distanceMm ?? 0, -32768, 32767), 5);
    return { fPort: 85, bytes: b };
  },
};
