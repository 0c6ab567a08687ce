// Codecs and test decodes: the one code path behind /api/v1/codecs, the console's codec page and its
// test-decode boxes. Decoding runs in the same sandbox, with the same field maps, as ingest does.
import { z } from 'zod';
import { needInstallation } from '../api/auth.ts';
import { invalid } from '../api/errors.ts';
import { audit } from '../audit-store.ts';
import type { Principal } from '../auth/token-store.ts';
import type { Db } from '../db/db.ts';
import type { Device } from '../devices/device-registry.ts';
import { CodecStore } from './codec-store.ts';
import type { CodecSandbox } from './codecs/codec-sandbox.ts';
import { validateFieldMap } from './codecs/field-map.ts';
import { type DecodeResult, decodeBuiltin } from './codecs/index.ts';
import { MAX_SOURCE_BYTES, mapCodecOutput, runDecodeUplink } from './codecs/js-codec.ts';
import { fail } from './codecs/types.ts';

export const testFrame = z.object({
  fPort: z.number().int().min(0).max(255),
  bytes: z
    .string()
    .max(1024)
    .regex(/^(?:[0-9A-Fa-f]{2})*$/, 'hex digits, two per byte'),
});

export const codecBody = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits and . _ - only, at most 64'),
  source: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s) <= MAX_SOURCE_BYTES, `at most ${MAX_SOURCE_BYTES} bytes`),
  fieldMap: z.record(z.string(), z.string()),
  /** a sample frame decoded before saving, so mistakes show now and not on a device's first uplink */
  test: testFrame.optional(),
});
export type CodecBody = z.infer<typeof codecBody>;

/** What a test decode shows: the codec's own output (js-codec) and the canonical metrics stored from it. */
export interface TestDecode {
  output?: unknown;
  values: Record<string, number>;
  counter?: unknown;
}

/** What codecs need of the process (not AppContext, which would lead ingest to the alarm code). */
interface Ctx {
  db: Db;
  codecSandbox: CodecSandbox;
  codecs?: CodecStore;
}

/** The codec table of this process: the ingest role's, or (api-only process) one loaded on first use. */
export async function codecsOf(ctx: Ctx): Promise<CodecStore> {
  if (!ctx.codecs) {
    const c = new CodecStore(ctx.db);
    await c.load();
    ctx.codecs ??= c;
  }
  return ctx.codecs;
}

/** The js-codec of a device, with the device's own field map over the codec's (as ingest uses it). */
export function deviceCodec(codecs: CodecStore, device: Device): { source: string; fieldMap: Record<string, string> } | undefined {
  const id = typeof device.params.codec === 'string' ? device.params.codec : undefined;
  const codec = id ? codecs.get(id) : undefined;
  if (!codec) return undefined;
  return { source: codec.source, fieldMap: { ...codec.fieldMap, ...((device.params.fieldMap as Record<string, string>) ?? {}) } };
}

export const noCodec = (device: Device) =>
  fail('codec_error', `device '${device.id}' uses js-codec but codec '${device.params.codec ?? '(params.codec not set)'}' is not uploaded`);

/** Run a frame through a codec source and field map; a failure says why, as a rejected uplink would. */
export async function decodeWith(
  sandbox: CodecSandbox,
  codec: { source: string; fieldMap: Record<string, string> },
  input: { bytes: Buffer; fPort: number; recvTime?: Date },
): Promise<(DecodeResult & { output?: unknown }) | (DecodeResult & { ok: false; output?: unknown })> {
  const run = await runDecodeUplink(sandbox, codec.source, input);
  if (!run.ok) return run;
  const mapped = mapCodecOutput(run.result, codec.fieldMap);
  return { ...mapped, output: run.result };
}

/** A frame decoded with a device's model (built-in or its js-codec), nothing stored. */
export async function testDecodeForDevice(ctx: Ctx, device: Device, frame: { bytes: string; fPort: number }) {
  const bytes = Buffer.from(frame.bytes, 'hex');
  if (device.model === 'js-codec') {
    const codec = deviceCodec(await codecsOf(ctx), device);
    if (!codec) return noCodec(device);
    return decodeWith(ctx.codecSandbox, codec, { bytes, fPort: frame.fPort });
  }
  if (device.model === 'generic') return fail('decode_error', `device '${device.id}' has model generic: it sends decoded JSON, not bytes`);
  return decodeBuiltin(device.model, { bytes, fPort: frame.fPort, params: device.params });
}

/** Check, test-decode and store a codec (installation-wide principals only). */
export async function saveCodec(ctx: Ctx, p: Principal, by: string, b: CodecBody): Promise<{ created: boolean; test?: TestDecode }> {
  needInstallation(p, 'codecs');
  const codecs = await codecsOf(ctx);
  const problems = validateFieldMap(b.fieldMap);
  if (problems.length)
    throw invalid(
      `invalid field map: ${problems.join('; ')}`,
      problems.map((m) => ({ path: `body.fieldMap.${/^'([^']+)'/.exec(m)?.[1] ?? ''}`, message: m })),
    );
  // Loaded in the sandbox like at decode time: its top level runs there, under the same limits.
  const loaded = await ctx.codecSandbox.check(b.source);
  if (!loaded.ok) throw invalid(loaded.message, [{ path: 'body.source', message: loaded.message, reason: loaded.reason }]);
  let test: TestDecode | undefined;
  if (b.test) {
    const run = await runDecodeUplink(ctx.codecSandbox, b.source, { bytes: Buffer.from(b.test.bytes, 'hex'), fPort: b.test.fPort });
    if (!run.ok) throw invalid(`test decode failed: ${run.message}`, [{ path: 'body.test', message: run.message, reason: run.reason }]);
    const mapped = mapCodecOutput(run.result, b.fieldMap);
    if (!mapped.ok)
      throw invalid(`test decode failed: ${mapped.message}`, [{ path: 'body.test', message: mapped.message, reason: mapped.reason, output: run.result }]);
    test = { output: run.result, values: mapped.values, ...(mapped.counter ? { counter: mapped.counter } : {}) };
  }
  const existed = !!codecs.get(b.id);
  await ctx.db.transaction(async (tx) => {
    await codecs.save(tx, b.id, b.source, b.fieldMap);
    await audit(tx, by, existed ? 'update' : 'create', 'codec', b.id, { fieldMap: b.fieldMap, sourceBytes: Buffer.byteLength(b.source) });
  });
  return { created: !existed, ...(test ? { test } : {}) };
}

/** Delete a codec with its audit row (installation-wide principals only); false when there is none. */
export async function removeCodec(ctx: Ctx, p: Principal, by: string, id: string): Promise<boolean> {
  needInstallation(p, 'codecs');
  const codecs = await codecsOf(ctx);
  return ctx.db.transaction(async (tx) => {
    const ok = await codecs.remove(tx, id);
    if (ok) await audit(tx, by, 'delete', 'codec', id);
    return ok;
  });
}
