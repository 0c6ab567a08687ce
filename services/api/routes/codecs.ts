// Uploaded `decodeUplink` codecs for the js-codec model. [docs/topics.md Device models]
import { z } from 'zod';
import { codecBody, codecsOf, removeCodec, saveCodec } from '../../ingest/codec-service.ts';
import { actor, need, needInstallation } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, itemsOf, noContent, responses } from '../schemas.ts';

const fieldMap = z.record(z.string(), z.string()).describe('codec output field → canonical metric');
const saved = z.object({
  id: z.string(),
  fieldMap,
  sourceBytes: z.number().int(),
  test: z
    .object({ output: z.unknown().optional(), values: z.record(z.string(), z.number()), counter: z.unknown().optional() })
    .optional()
    .describe('the sample frame decoded, when the body had `test`'),
});
const listed = z.object({ id: z.string(), fieldMap, updatedAt: z.string(), sourceBytes: z.number().int() });
const codec = z.object({ id: z.string(), source: z.string(), fieldMap, updatedAt: z.string() });
const example = {
  id: 'my-sensor',
  source: 'function decodeUplink(input) { return { data: { level: input.bytes[0] } }; }',
  fieldMap: { level: 'level_cm' },
  test: { fPort: 2, bytes: '2A' },
};

export const codecRoutes: ApiRoutes = async (app, { ctx }) => {
  const codecs = await codecsOf(ctx);

  app.post(
    '',
    {
      schema: {
        tags: ['devices'],
        summary: 'Create or replace a js-codec (201 new, 200 replaced); with `test`, a sample frame is decoded first',
        body: codecBody.meta({ examples: [example] }),
        response: responses({ 200: saved, 201: saved }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'devices:write');
      const b = req.body;
      const r = await saveCodec(ctx, p, actor(p), b);
      return reply
        .code(r.created ? 201 : 200)
        .send({ id: b.id, fieldMap: b.fieldMap, sourceBytes: Buffer.byteLength(b.source), ...(r.test ? { test: r.test } : {}) });
    },
  );

  app.get('', { schema: { tags: ['devices'], summary: 'List the codecs', response: responses({ 200: itemsOf(listed) }) } }, async (req) => {
    needInstallation(need(req, 'read'), 'codecs');
    return { items: codecs.list() };
  });

  app.get(
    '/:id',
    { schema: { tags: ['devices'], summary: 'One codec with its source', params: idParam, response: responses({ 200: codec }) } },
    async (req) => {
      needInstallation(need(req, 'read'), 'codecs');
      const c = codecs.get(req.params.id);
      if (!c) throw notFound('codec', req.params.id);
      return c;
    },
  );

  app.delete(
    '/:id',
    { schema: { tags: ['devices'], summary: 'Delete a codec', params: idParam, response: responses({ 204: noContent }) } },
    async (req, reply) => {
      const p = need(req, 'devices:write');
      if (!(await removeCodec(ctx, p, actor(p), req.params.id))) throw notFound('codec', req.params.id);
      return reply.code(204).send();
    },
  );
};
