// TTN device-repository style codecs: `function decodeUplink(input) { return {data, errors?} }`, run in the
// codec sandbox (QuickJS/WebAssembly in worker threads, codec-sandbox.ts): each call runs the codec's top level
// anew in the codec's own context, with 32 MiB, 50 ms of CPU and 64 KiB of output, and no host object at all —
// the input goes in as a JSON string and the result comes back as one.
import type { CodecSandbox, SandboxFailure } from './codec-sandbox.ts';
import { mapDecodedObject } from './field-map.ts';
import { type DecodeInput, type DecodeResult, fail } from './types.ts';

export { mapDecodedObject, validateFieldMap } from './field-map.ts';

export const MAX_SOURCE_BYTES = 256 * 1024;

export type RawDecode = { ok: true; result: unknown } | SandboxFailure;

/** Run the codec and return what decodeUplink returned, or why it failed. */
export async function runDecodeUplink(
  sandbox: CodecSandbox,
  source: string,
  input: { bytes: Buffer | number[]; fPort: number; recvTime?: Date },
): Promise<RawDecode> {
  if (Buffer.byteLength(source) > MAX_SOURCE_BYTES) return { ok: false, reason: 'codec_error', message: `codec source exceeds ${MAX_SOURCE_BYTES} bytes` };
  const payload = JSON.stringify({
    bytes: Array.from(input.bytes),
    fPort: input.fPort,
    recvTime: (input.recvTime ?? new Date()).toISOString(),
  });
  const r = await sandbox.run(source, payload);
  if (!r.ok) return r;
  try {
    return { ok: true, result: JSON.parse(r.json) };
  } catch {
    return { ok: false, reason: 'codec_error', message: 'codec output is not JSON' };
  }
}

/** Turn what decodeUplink returned into canonical metrics with `fieldMap` ({ "distance_mm": "distance.value" }). */
export function mapCodecOutput(out: unknown, fieldMap: Record<string, string>): DecodeResult {
  if (out === null || typeof out !== 'object' || Array.isArray(out)) return fail('decode_error', 'decodeUplink must return an object');
  const { data, errors } = out as { data?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.length > 0) return fail('decode_error', `codec reported: ${errors.map(String).join('; ').slice(0, 500)}`);
  if (data === null || typeof data !== 'object') return fail('decode_error', 'decodeUplink returned no data object');
  return mapDecodedObject(data, fieldMap);
}

/** Decode with an uploaded codec and map its `data` to canonical metrics. */
export async function runJsCodec(
  sandbox: CodecSandbox,
  source: string,
  input: Pick<DecodeInput, 'bytes' | 'fPort'> & { recvTime?: Date },
  fieldMap: Record<string, string>,
): Promise<DecodeResult> {
  const run = await runDecodeUplink(sandbox, source, input);
  return run.ok ? mapCodecOutput(run.result, fieldMap) : run;
}
