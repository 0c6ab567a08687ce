import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../context.ts';

/** One resource's routes, registered with its URL prefix and what it needs (routes/index.ts). */
export type ApiRoutes<Deps = object> = FastifyPluginAsyncZod<{ ctx: AppContext } & Deps>;
