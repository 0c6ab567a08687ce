// Uploaded `decodeUplink` codecs for the js-codec model. [docs/topics.md Device models]
import { z } from 'zod';
import { codecBody, codecsOf, removeCodec, saveCodec } from '../../ingest/codec-service.ts';
import { actor, need, needInstallation } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';

const idParam = z.object({ id: z.string() });

export const codecRoutes: ApiRoutes = async (app, { ctx }) => {
  const codecs = await codecsOf(ctx);

  app.post('', { schema: { tags: ['devices'], body: codecBody } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    const b = req.body;
    const r = await saveCodec(ctx, p, actor(p), b);
    return reply
      .code(r.created ? 201 : 200)
      .send({ id: b.id, fieldMap: b.fieldMap, sourceBytes: Buffer.byteLength(b.source), ...(r.test ? { test: r.test } : {}) });
  });

  app.get('', { schema: { tags: ['devices'] } }, async (req) => {
    needInstallation(need(req, 'read'), 'codecs');
    return { items: codecs.list() };
  });

  app.get('/:id', { schema: { tags: ['devices'], params: idParam } }, async (req) => {
    needInstallation(need(req, 'read'), 'codecs');
    const c = codecs.get(req.params.id);
    if (!c) throw notFound('codec', req.params.id);
    return c;
  });

  app.delete('/:id', { schema: { tags: ['devices'], params: idParam } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    if (!(await removeCodec(ctx, p, actor(p), req.params.id))) throw notFound('codec', req.params.id);
    return reply.code(204).send();
  });
};
