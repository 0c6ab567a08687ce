// Elsys TLV, big-endian: type byte + fixed-length data (docs/reference/lorawan.md §4.7). Types are written in ascending
// order, as the devices do. Real devices uplink on fPort 5.
import type { ModelSpec } from './types.ts';
import { clampInt } from './types.ts';

export const elsysElt: ModelSpec = {
  model: 'elsys-elt',
  kind: 'rain',
  measures: 'tipCount',
  batteryFullV: 3.6,
  batteryEmptyV: 3.0,
  counterBits: 32,
  encode: (r) => {
    const x = r.extra ?? {};
    const parts: Buffer[] = [];
    const tlv = (type: number, size: number, write: (b: Buffer) => void): void => {
      const b = Buffer.alloc(1 + size);
      b[0] = type;
      write(b);
      parts.push(b);
    };
    if (r.temperatureC !== undefined) tlv(0x01, 2, (b) => b.writeInt16BE(clampInt(r.temperatureC! * 10, -32768, 32767), 1));
    if (x.humidity !== undefined) tlv(0x02, 1, (b) => (b[1] = clampInt(x.humidity, 0, 255)));
    if (x.accX !== undefined) tlv(0x03, 3, (b) => b.set([x.accX & 0xff, (x.accY ?? 0) & 0xff, (x.accZ ?? 0) & 0xff], 1));
    if (r.batteryV !== undefined) tlv(0x07, 2, (b) => b.writeUInt16BE(clampInt(r.batteryV! * 1000, 0, 0xffff), 1));
    if (r.tipCount !== undefined) tlv(0x0b, 4, (b) => b.writeUInt32BE(r.tipCount! >>> 0, 1)); // pulse1 absolute
    if (r.distanceMm !== undefined) tlv(0x0e, 2, (b) => b.writeUInt16BE(clampInt(r.distanceMm!, 0, 0xffff), 1));
    if (x.pressure !== undefined) tlv(0x14, 4, (b) => b.writeUInt32BE(clampInt(x.pressure * 1000, 0, 0xffffffff), 1));
    return { fPort: x.fPort ?? 5, bytes: Buffer.concat(parts) };
  },
};
