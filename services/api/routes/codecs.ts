// Uploaded `decodeUplink` codecs for the js-codec model. [docs/topics.md Device models]
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import type { AppContext } from '../../context.ts';
import { CodecStore } from '../../ingest/codec-store.ts';
import { validateFieldMap } from '../../ingest/codecs/field-map.ts';
import { MAX_SOURCE_BYTES, mapCodecOutput, runDecodeUplink } from '../../ingest/codecs/js-codec.ts';
import { actor, need, needInstallation } from '../auth.ts';
import { invalid, notFound } from '../errors.ts';

const body = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits and . _ - only, at most 64'),
  source: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s) <= MAX_SOURCE_BYTES, `at most ${MAX_SOURCE_BYTES} bytes`),
  fieldMap: z.record(z.string(), z.string()),
  /** a sample frame decoded before saving, so mistakes show now and not on a device's first uplink */
  test: z
    .object({
      fPort: z.number().int().min(0).max(255),
      bytes: z
        .string()
        .max(1024)
        .regex(/^(?:[0-9A-Fa-f]{2})*$/, 'hex digits, two per byte'),
    })
    .optional(),
});
const idParam = z.object({ id: z.string() });

export async function codecRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // An api-only process has no ingest role: it still manages the table (ingest processes load it at start).
  const codecs =
    ctx.codecs ??
    (await (async () => {
      const c = new CodecStore(ctx.db);
      await c.load();
      return c;
    })());

  app.post('/api/v1/codecs', { schema: { tags: ['devices'], body } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    needInstallation(p, 'codecs');
    const b = req.body;
    const problems = validateFieldMap(b.fieldMap);
    if (problems.length)
      throw invalid(
        `invalid field map: ${problems.join('; ')}`,
        problems.map((m) => ({ path: `body.fieldMap.${/^'([^']+)'/.exec(m)?.[1] ?? ''}`, message: m })),
      );
    // Loaded in the sandbox like at decode time: its top level runs there, under the same limits.
    const loaded = await ctx.codecSandbox.check(b.source);
    if (!loaded.ok) throw invalid(loaded.message, [{ path: 'body.source', message: loaded.message, reason: loaded.reason }]);
    let test: { output: unknown; values: Record<string, number>; counter?: unknown } | undefined;
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
      await audit(tx, actor(p), existed ? 'update' : 'create', 'codec', b.id, { fieldMap: b.fieldMap, sourceBytes: Buffer.byteLength(b.source) });
    });
    return reply.code(existed ? 200 : 201).send({ id: b.id, fieldMap: b.fieldMap, sourceBytes: Buffer.byteLength(b.source), ...(test ? { test } : {}) });
  });

  app.get('/api/v1/codecs', { schema: { tags: ['devices'] } }, async (req) => {
    needInstallation(need(req, 'read'), 'codecs');
    return { items: codecs.list() };
  });

  app.get('/api/v1/codecs/:id', { schema: { tags: ['devices'], params: idParam } }, async (req) => {
    needInstallation(need(req, 'read'), 'codecs');
    const c = codecs.get(req.params.id);
    if (!c) throw notFound('codec', req.params.id);
    return c;
  });

  app.delete('/api/v1/codecs/:id', { schema: { tags: ['devices'], params: idParam } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    needInstallation(p, 'codecs');
    const ok = await ctx.db.transaction(async (tx) => {
      const ok = await codecs.remove(tx, req.params.id);
      if (ok) await audit(tx, actor(p), 'delete', 'codec', req.params.id);
      return ok;
    });
    if (!ok) throw notFound('codec', req.params.id);
    return reply.code(204).send();
  });
}
