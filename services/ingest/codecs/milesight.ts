// Milesight EM310-UDL / EM500-UDL: [channel][type][data] TLV on fPort 85, little-endian [lorawan.md 4.2].
import { type DecodeInput, type DecodeResult, fail, ok, wrongPort } from './types.ts';

const DATA_PORT = 85;

// Device-info channels (0xFF xx) and their data lengths; they carry no measurement but must be skipped
// correctly, because a device-info frame may share an uplink with readings.
const INFO_LENGTHS: Record<number, number> = {
  0x01: 1, // ipso_version
  0x09: 2, // hardware_version
  0x0a: 2, // firmware_version
  0xff: 2, // tsl_version
  0x16: 8, // sn
  0x0f: 1, // lorawan_class
  0xfe: 1, // reset_event
  0x0b: 1, // device_status
};

type Variant = 'em310' | 'em500';
type Values = Record<string, number>;
interface Channel {
  len: number;
  read?: (b: Buffer, at: number, out: Values) => void;
}

function channel(variant: Variant, ch: number, type: number): Channel | undefined {
  if (ch === 0x01 && type === 0x75) return { len: 1, read: (b, at, out) => void (out.battery_pct = b[at]) };
  if (ch === 0x03 && type === 0x82) {
    // EM310: uint16 mm. EM500: int16 that its decoder divides by 1000 to report metres, so the raw
    // word already is the canonical millimetre value.
    return variant === 'em310'
      ? { len: 2, read: (b, at, out) => void (out.distance_mm = b.readUInt16LE(at)) }
      : { len: 2, read: (b, at, out) => void (out.distance_mm = b.readInt16LE(at)) };
  }
  if (variant === 'em310' && ch === 0x04 && type === 0x00) {
    // position: 0 normal, 1 tilted — a tilted sensor measures a slant distance, worth keeping
    return { len: 1, read: (b, at, out) => void (out.x_tilt = b[at] === 1 ? 1 : 0) };
  }
  if (ch === 0xff && INFO_LENGTHS[type] !== undefined) return { len: INFO_LENGTHS[type] };
  return undefined;
}

function decode(model: string, variant: Variant, { bytes, fPort }: DecodeInput): DecodeResult {
  if (fPort !== DATA_PORT) return wrongPort(model, fPort, [DATA_PORT]);
  if (bytes.length === 0) return fail('decode_error', `${model}: empty frame`);
  const values: Values = {};
  for (let i = 0; i < bytes.length; ) {
    if (i + 2 > bytes.length) return fail('decode_error', `${model}: truncated channel header at byte ${i}`);
    const [ch, type] = [bytes[i], bytes[i + 1]];
    const spec = channel(variant, ch, type);
    // Without a known length the rest of the frame cannot be framed; refuse rather than guess.
    if (!spec) return fail('decode_error', `${model}: unknown channel 0x${hex(ch)} type 0x${hex(type)} at byte ${i}`);
    if (i + 2 + spec.len > bytes.length) {
      return fail('decode_error', `${model}: truncated channel 0x${hex(ch)} 0x${hex(type)} at byte ${i}`);
    }
    spec.read?.(bytes, i + 2, values);
    i += 2 + spec.len;
  }
  return ok(values);
}

const hex = (b: number) => b.toString(16).padStart(2, '0');

export const decodeEm310Udl = (model: string, input: DecodeInput) => decode(model, 'em310', input);
export const decodeEm500Udl = (model: string, input: DecodeInput) => decode(model, 'em500', input);
