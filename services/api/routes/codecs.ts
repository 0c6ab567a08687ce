// Uploaded `decodeUplink` codecs for the js-codec model. [docs/topics.md Device models]
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import type { AppContext } from '../../context.ts';
import { codecBody, codecsOf, saveCodec } from '../../ingest/codec-service.ts';
import { actor, need, needInstallation } from '../auth.ts';
import { notFound } from '../errors.ts';

const idParam = z.object({ id: z.string() });

export async function codecRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const codecs = await codecsOf(ctx);

  app.post('/api/v1/codecs', { schema: { tags: ['devices'], body: codecBody } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    const b = req.body;
    const r = await saveCodec(ctx, p, actor(p), b);
    return reply
      .code(r.created ? 201 : 200)
      .send({ id: b.id, fieldMap: b.fieldMap, sourceBytes: Buffer.byteLength(b.source), ...(r.test ? { test: r.test } : {}) });
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
