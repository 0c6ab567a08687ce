// Built-in device models behind one table and two functions (ChirpStack-style codec dispatch) [docs/topics.md].
import { decodeDecentlab } from './decentlab.ts';
import { decodeLdds, decodeSn50v3Count } from './dragino.ts';
import { decodeElsys } from './elsys.ts';
import { decodeEm310Udl, decodeEm500Udl } from './milesight.ts';
import { decodeS2120 } from './sensecap.ts';
import { type DecodeInput, type DecodeResult, fail } from './types.ts';

export type {
  DecodedCounter,
  DecodeErr,
  DecodeInput,
  DecodeOk,
  DecodeResult,
} from './types.ts';

type ModelDecoder = (model: string, input: DecodeInput) => DecodeResult;

const DECODERS: Record<string, ModelDecoder> = {
  'decentlab-dl-mbx': decodeDecentlab,
  'decentlab-dl-pr26': decodeDecentlab,
  'decentlab-dl-pr36': decodeDecentlab,
  'decentlab-dl-atm41': decodeDecentlab,
  'dragino-ldds75': decodeLdds,
  'dragino-ldds20': decodeLdds, // same v1.1.4 layout as the LDDS75 [docs/reference/lorawan.md 4.3]
  'dragino-sn50v3-count': decodeSn50v3Count,
  'milesight-em310-udl': decodeEm310Udl,
  'milesight-em500-udl': decodeEm500Udl,
  'elsys-elt': decodeElsys,
  'sensecap-s2120': decodeS2120,
};

/** Raw-byte models of docs/topics.md (not 'generic' / 'js-codec', which are decoded elsewhere). */
export const BUILTIN_MODELS: readonly string[] = Object.freeze(Object.keys(DECODERS));

const OTHER_MODELS = new Set(['generic', 'js-codec']);

export function isKnownModel(model: string): boolean {
  return Object.hasOwn(DECODERS, model) || OTHER_MODELS.has(model);
}

/** Never throws: a decoder bug becomes codec_error, so one bad frame cannot stop ingestion. */
export function decodeBuiltin(model: string, input: DecodeInput): DecodeResult {
  if (!Object.hasOwn(DECODERS, model)) return fail('codec_error', `no built-in decoder for model '${model}'`);
  try {
    return DECODERS[model](model, input);
  } catch (err) {
    return fail('codec_error', `${model}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
