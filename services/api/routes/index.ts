import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { openDataRoutes } from '../../opendata/index.ts';
import { auditRoutes } from './audit.ts';
import { codecRoutes } from './codecs.ts';
import { deviceRoutes } from './devices.ts';
import { healthRoutes } from './health.ts';
import { mqttCredentialRoutes } from './mqtt-credentials.ts';
import { rejectedUplinkRoutes } from './rejected-uplinks.ts';
import { tokenRoutes } from './tokens.ts';

export async function registerRoutes(app: FastifyInstance, ctx: AppContext) {
  for (const r of [healthRoutes, tokenRoutes, mqttCredentialRoutes, deviceRoutes, codecRoutes, rejectedUplinkRoutes, auditRoutes, openDataRoutes])
    await r(app, ctx);
  if (ctx.alarms) {
    const { alarmRoutes } = await import('./alarms.ts');
    await alarmRoutes(app, ctx);
  }
}
