// Result types shared by every built-in codec. A codec never throws: bad bytes become a typed
// DecodeErr so the pipeline can keep the uplink as rejected with a reason [docs/topics.md].

export interface DecodeInput {
  bytes: Buffer;
  fPort: number;
  params: Record<string, unknown>;
}

/**
 * A cumulative (or relative) tip/pulse counter. It is not a reading: the derive step turns it into
 * rain_mm (delta × mmPerTip), because only it knows the previous count [docs/topics.md Canonical metrics: rain_mm].
 * `mmPerCount` is set only when the device reports its counter in a fixed physical unit
 * (e.g. SenseCAP accumulated rainfall in 0.001 mm), overriding the device's mmPerTip param.
 */
export interface DecodedCounter {
  count: number;
  bits: 16 | 32;
  relative?: boolean;
  mmPerCount?: number;
}

export type DecodeOk = {
  ok: true;
  values: Record<string, number>;
  counter?: DecodedCounter;
};
export type DecodeErr = {
  ok: false;
  reason: 'decode_error' | 'wrong_fport' | 'codec_timeout' | 'codec_memory' | 'codec_error';
  message: string;
};
export type DecodeResult = DecodeOk | DecodeErr;

export type Decoder = (input: DecodeInput) => DecodeResult;

export const ok = (values: Record<string, number>, counter?: DecodedCounter): DecodeOk => (counter ? { ok: true, values, counter } : { ok: true, values });

export const fail = (reason: DecodeErr['reason'], message: string): DecodeErr => ({ ok: false, reason, message });

export const truncated = (model: string, need: number, got: number): DecodeErr =>
  fail('decode_error', `${model}: truncated frame, need ${need} bytes, got ${got}`);

export const wrongPort = (model: string, fPort: number, expected: readonly number[]): DecodeErr =>
  fail('wrong_fport', `${model}: unexpected fPort ${fPort} (expected ${expected.join(' or ')})`);

/** A numeric device param (params come from JSON, so strings like "8192" are accepted too). */
export function numParam(params: Record<string, unknown>, key: string, fallback: number): number {
  const raw = params[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) ? n : fallback;
}

/** Trim binary float noise (0.1 + 0.2) without losing sensor resolution. */
export const round = (v: number, digits = 6): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
