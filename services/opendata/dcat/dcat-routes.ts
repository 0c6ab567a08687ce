// GET /dcat/catalog.jsonld and /dcat/catalog.ttl: the DCAT-AP.de catalogue of the open data. [docs/opendata.md DCAT-AP.de]
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { cacheFor, openRateLimit } from '../open-http.ts';
import { catalogData, catalogGraph } from './catalog.ts';
import { toJsonLd, toTurtle } from './rdf.ts';

export async function dcatRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const config = openRateLimit(ctx.config.openDataRateLimit);
  const graph = async () => catalogGraph(await catalogData(ctx.db), { publicUrl: ctx.config.publicUrl, ars: ctx.config.capArs, now: new Date() });
  app.get(
    '/dcat/catalog.jsonld',
    {
      schema: { tags: ['open data'], summary: 'DCAT-AP.de catalogue (JSON-LD) of the open data, for GovData and CKAN harvesters', response: { 200: z.any() } },
      config,
    },
    async (_req, reply) => {
      cacheFor(reply, 3600);
      return reply.type('application/ld+json; charset=utf-8').send(JSON.stringify(toJsonLd(await graph()), null, 1));
    },
  );
  app.get(
    '/dcat/catalog.ttl',
    { schema: { tags: ['open data'], summary: 'DCAT-AP.de catalogue (Turtle)', response: { 200: z.string() } }, config },
    async (_req, reply) => {
      cacheFor(reply, 3600);
      return reply.type('text/turtle; charset=utf-8').send(toTurtle(await graph()));
    },
  );
}
