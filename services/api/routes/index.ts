// Every resource of the HTTP API is a fastify plugin registered here with its URL prefix. [docs/api.md]
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { openDataRoutes } from '../../opendata/index.ts';
import { providerHookRoutes } from '../../responders/provider-hook-routes.ts';
import { alarmRoutes } from './alarms.ts';
import { auditRoutes } from './audit.ts';
import { capRoutes } from './cap.ts';
import { catchmentRoutes } from './catchments.ts';
import { codecRoutes } from './codecs.ts';
import { deviceRoutes } from './devices.ts';
import { dwdRoutes } from './dwd.ts';
import { healthRoutes } from './health.ts';
import { mqttCredentialRoutes } from './mqtt-credentials.ts';
import { notificationRouteRoutes } from './notification-routes.ts';
import { orgRoutes } from './orgs.ts';
import { readingRoutes } from './readings.ts';
import { rejectedUplinkRoutes } from './rejected-uplinks.ts';
import { routeTestRoutes } from './route-test.ts';
import { ruleRoutes } from './rules.ts';
import { silenceRoutes } from './silences.ts';
import { tokenRoutes } from './tokens.ts';

const V1 = '/api/v1';

export async function registerRoutes(app: FastifyInstance, ctx: AppContext) {
  await app.register(healthRoutes, { ctx });
  await app.register(tokenRoutes, { prefix: `${V1}/tokens`, ctx });
  await app.register(mqttCredentialRoutes, { prefix: `${V1}/mqtt-credentials`, ctx });
  await app.register(deviceRoutes, { prefix: `${V1}/devices`, ctx });
  await app.register(readingRoutes, { prefix: `${V1}/devices`, ctx });
  await app.register(codecRoutes, { prefix: `${V1}/codecs`, ctx });
  await app.register(rejectedUplinkRoutes, { prefix: `${V1}/rejected-uplinks`, ctx });
  await app.register(auditRoutes, { prefix: `${V1}/audit`, ctx });
  await app.register(dwdRoutes, { prefix: `${V1}/dwd`, ctx });
  await app.register(catchmentRoutes, { prefix: `${V1}/catchments`, ctx });
  await app.register(orgRoutes, { prefix: `${V1}/orgs`, ctx });
  // /api/v1/orgs/{org}/open-data and the public /sta/v1.1 (services/opendata/)
  await openDataRoutes(app, ctx);
  // the alarm role's resources, in processes that run it
  const { alarms, rules, routes } = ctx;
  if (alarms && rules && routes) {
    await app.register(ruleRoutes, { prefix: `${V1}/rules`, ctx, rules });
    await app.register(notificationRouteRoutes, { prefix: `${V1}/routes`, ctx, routes });
    await app.register(routeTestRoutes, { prefix: `${V1}/routes`, ctx, routes, now: alarms.now });
    await app.register(silenceRoutes, { prefix: `${V1}/silences`, ctx, alarms });
    await app.register(alarmRoutes, { prefix: `${V1}/alarms`, ctx, alarms });
    await app.register(capRoutes, { prefix: `${V1}/cap`, ctx, alarms });
    await app.register(providerHookRoutes, { prefix: '/hooks', ctx, alarms });
  }
}
