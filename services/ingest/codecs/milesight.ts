// Milesight EM310-UDL / EM500-UDL: [channel][type][data] TLV on fPort 85, little-endian [docs/reference/lorawan.md 4.2].
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

/** Data length of a channel, or undefined when unknown (then the frame cannot be framed further). */
function channelLength(variant: Variant, ch: number, type: number): number | undefined {
  if (ch === 0x01 && type === 0x75) return 1; // battery %
  if (ch === 0x03 && type === 0x82) return 2; // distance
  if (variant === 'em310' && ch === 0x04 && type === 0x00) return 1; // position
  if (ch === 0xff) return INFO_LENGTHS[type];
  return undefined;
}

function readChannel(variant: Variant, ch: number, b: Buffer, at: number, out: Values): void {
  if (ch === 0x01) out.battery_pct = b[at];
  // EM310: uint16 mm. EM500: int16 that its decoder divides by 1000 to report metres, so the raw word
  // already is the canonical millimetre value.
  if (ch === 0x03) out.distance_mm = variant === 'em310' ? b.readUInt16LE(at) : b.readInt16LE(at);
  // position: 0 normal, 1 tilted — a tilted sensor measures a slant distance, worth keeping
  if (ch === 0x04) out.x_tilt = b[at] === 1 ? 1 : 0;
}

function decode(model: string, variant: Variant, { bytes, fPort }: DecodeInput): DecodeResult {
  if (fPort !== DATA_PORT) return wrongPort(model, fPort, [DATA_PORT]);
  if (bytes.length === 0) return fail('decode_error', `${model}: empty frame`);
  const values: Values = {};
  for (let i = 0; i < bytes.length; ) {
    if (i + 2 > bytes.length) return fail('decode_error', `${model}: truncated channel header at byte ${i}`);
    const [ch, type] = [bytes[i], bytes[i + 1]];
    const len = channelLength(variant, ch, type);
    // Without a known length the rest of the frame cannot be framed; refuse rather than guess.
    if (len === undefined) return fail('decode_error', `${model}: unknown channel 0x${hex(ch)} type 0x${hex(type)} at byte ${i}`);
    if (i + 2 + len > bytes.length) {
      return fail('decode_error', `${model}: truncated channel 0x${hex(ch)} 0x${hex(type)} at byte ${i}`);
    }
    readChannel(variant, ch, bytes, i + 2, values);
    i += 2 + len;
  }
  return ok(values);
}

const hex = (b: number) => b.toString(16).padStart(2, '0');

export const decodeEm310Udl = (model: string, input: DecodeInput) => decode(model, 'em310', input);
export const decodeEm500Udl = (model: string, input: DecodeInput) => decode(model, 'em500', input);
