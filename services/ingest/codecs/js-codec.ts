// Sandboxed TTN device-repository style codecs: `function decodeUplink(input) { return {data, errors?} }`
// [lorawan.md 3]. node:vm is not a security boundary against a determined attacker, so the sandbox is
// kept narrow: only a JSON string crosses into the context (no host object whose prototype chain leads
// back to `process`), code generation from strings is off, and each call gets a fresh context so one
// device's codec cannot leave state for the next. Memory is not limited by vm; codecs are uploaded by
// authenticated operators, not by devices.
import { createHash } from 'node:crypto';
import { types } from 'node:util';
import vm from 'node:vm';
import { type DecodeInput, type DecodeResult, fail } from './types.ts';
import { mapDecodedObject } from './field-map.ts';

export { mapDecodedObject, validateFieldMap } from './field-map.ts';

export const CODEC_TIMEOUT_MS = 50;
export const MAX_OUTPUT_BYTES = 64 * 1024;
export const MAX_SOURCE_BYTES = 256 * 1024;
const CACHE_LIMIT = 200;

// Runs inside the context after the codec source. recvTime is rebuilt as a Date of the context's realm.
const CALL = new vm.Script(
  `(function () {
    var input = JSON.parse(__input);
    input.recvTime = new Date(input.recvTime);
    if (typeof decodeUplink !== 'function') throw new TypeError('codec defines no decodeUplink(input) function');
    return JSON.stringify(decodeUplink(input));
  })()`,
  { filename: 'js-codec-call.js' },
);

const compiled = new Map<string, vm.Script>();

/** Compile once per distinct source; the cache is bounded so changing codecs cannot grow memory forever. */
function compile(source: string): vm.Script {
  const key = createHash('sha256').update(source).digest('hex');
  let script = compiled.get(key);
  if (!script) {
    script = new vm.Script(source, {
      filename: `js-codec-${key.slice(0, 12)}.js`,
    });
    if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, script);
  }
  return script;
}

/**
 * Describe a thrown value without running codec code outside the time limit: a getter, toString or
 * Proxy trap on a thrown object would otherwise execute in the host with no timeout at all.
 */
function safeMessage(err: unknown): string {
  if (err === null || (typeof err !== 'object' && typeof err !== 'function')) return String(err).slice(0, 200);
  if (types.isProxy(err)) return 'a non-error value was thrown';
  const desc = Object.getOwnPropertyDescriptor(err, 'message');
  return desc && typeof desc.value === 'string' ? desc.value.slice(0, 200) : 'a non-error value was thrown';
}

// Read as an own data property: `instanceof Error` differs between realms (and under test runners).
const isTimeout = (err: unknown): boolean =>
  err !== null &&
  typeof err === 'object' &&
  !types.isProxy(err) &&
  Object.getOwnPropertyDescriptor(err, 'code')?.value === 'ERR_SCRIPT_EXECUTION_TIMEOUT';

/** Run the codec and return its raw result object, or a typed error. */
export function runDecodeUplink(
  source: string,
  input: { bytes: Buffer | number[]; fPort: number; recvTime?: Date },
): { ok: true; result: unknown } | Extract<DecodeResult, { ok: false }> {
  if (Buffer.byteLength(source) > MAX_SOURCE_BYTES)
    return fail('codec_error', `codec source exceeds ${MAX_SOURCE_BYTES} bytes`);
  let script: vm.Script;
  try {
    script = compile(source);
  } catch (err) {
    return fail('codec_error', `codec does not compile: ${safeMessage(err)}`);
  }
  const payload = JSON.stringify({
    bytes: Array.from(input.bytes),
    fPort: input.fPort,
    recvTime: (input.recvTime ?? new Date()).toISOString(),
  });
  // No require/process/timers/fetch: a bare context only has the ECMAScript built-ins.
  const context = vm.createContext(Object.assign(Object.create(null), { __input: payload }), {
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  let json: unknown;
  try {
    script.runInContext(context, { timeout: CODEC_TIMEOUT_MS });
    json = CALL.runInContext(context, { timeout: CODEC_TIMEOUT_MS });
  } catch (err) {
    if (isTimeout(err)) {
      return fail('codec_timeout', `codec ran longer than ${CODEC_TIMEOUT_MS} ms`);
    }
    return fail('codec_error', `codec threw: ${safeMessage(err)}`);
  }
  if (typeof json !== 'string') return fail('decode_error', 'decodeUplink returned nothing');
  if (json.length > MAX_OUTPUT_BYTES) return fail('codec_error', `codec output exceeds ${MAX_OUTPUT_BYTES} bytes`);
  return { ok: true, result: JSON.parse(json) };
}

/**
 * Decode with an uploaded codec and map its `data` to canonical metrics with `fieldMap`
 * ({ "distance_mm": "distance.value", "battery_v": "battery" }).
 */
export function runJsCodec(
  source: string,
  input: Pick<DecodeInput, 'bytes' | 'fPort'> & { recvTime?: Date },
  fieldMap: Record<string, string>,
): DecodeResult {
  const run = runDecodeUplink(source, input);
  if (!run.ok) return run;
  const out = run.result as { data?: unknown; errors?: unknown } | null;
  if (out === null || typeof out !== 'object') return fail('decode_error', 'decodeUplink must return an object');
  if (Array.isArray(out.errors) && out.errors.length > 0) {
    return fail('decode_error', `codec reported: ${out.errors.map(String).join('; ')}`);
  }
  if (out.data === null || typeof out.data !== 'object')
    return fail('decode_error', 'decodeUplink returned no data object');
  return mapDecodedObject(out.data, fieldMap);
}
