// Starts the roles of one Regenwacht process, one step each (services/start/): configuration and ports, the
// store, the alarm side, ingest, the MQTT inputs, background jobs, the API. [docs/architecture.md] [README.md]
import path from 'node:path';
import { type Logger, pino } from 'pino';
import type { Alerting } from './alarms/alerting.ts';
import type { RunningBroker } from './broker/broker.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import type { IngestService } from './ingest/ingest-service.ts';
import type { Upstream } from './ingest/upstream.ts';
import { createMetrics } from './metrics.ts';
import { startAlarms } from './start/alarms.ts';
import { startApi } from './start/api.ts';
import { startMqtt, startUpstreamFeed } from './start/broker.ts';
import { configWithPorts } from './start/config.ts';
import { drainThenStop } from './start/drain.ts';
import { startIngest } from './start/ingest.ts';
import { startJobs } from './start/jobs.ts';
import { Stops } from './start/stops.ts';
import { openStore } from './start/store.ts';
import { LiveFeed } from './web/feed.ts';

export { upstreamClientId } from './start/broker.ts';

export interface Overrides {
  dataDir?: string;
  httpPort?: number;
  mqttPort?: number | 'off';
  adminToken?: string;
  logLevel?: string;
  databaseUrl?: string;
  env?: Record<string, string | undefined>;
  /** injectable clock for tests of timers (escalation, reminders) */
  now?: () => number;
  /** how long to wait for PostgreSQL at start (docker-compose starts both at once); default 60 s */
  dbWaitMs?: number;
}

export interface Running {
  httpUrl: string;
  mqttUrl: string | null;
  /** mqtts://… when MQTTS_PORT is set */
  mqttsUrl?: string;
  adminToken: string;
  adminTokenSource: string;
  config: Readonly<Config>;
  ctx: AppContext;
  ingest?: IngestService;
  alerting?: Alerting;
  /** graceful drain, then stop: /readyz says no, no new uplinks, the batch in hand stored and acknowledged,
   *  the scheduler lock handed over, the outbox in hand delivered; bounded by drainMs (default 10 s) */
  stop(drainMs?: number): Promise<void>;
}

export async function startRegenwacht(o: Overrides = {}, log?: Logger): Promise<Running> {
  const { config, held } = await configWithPorts(envWith(o));
  const logger = log ?? pino({ level: config.logLevel, base: { svc: 'regenwacht' } });
  const stops = new Stops();
  stops.push(async () => void (await Promise.all([held.http?.release(), held.mqtt?.release(), held.mqtts?.release()])));
  try {
    const store = await openStore(config, logger, stops, o.dbWaitMs ?? 60_000);
    let broker: RunningBroker | undefined;
    let upstream: Upstream | undefined;
    let draining = false;
    const ctx = contextOf(config, store, logger, {
      draining: () => draining,
      brokerReady: () => (config.mqttPort === 'off' || !!broker) && (!config.upstream || !!upstream?.ready()),
    });
    const now = o.now ?? Date.now;
    // what the web console shows live: committed readings and stored alarm changes
    const live = new LiveFeed();
    const alerting = await startAlarms(ctx, live, now, stops);
    const evaluate = alerting ? (rs: Parameters<Alerting['onReadings']>[0]) => alerting.onReadings(rs) : undefined;
    const ingest = await startIngest(ctx, { evaluate, live: (rs) => live.readings(rs), rejected: (ids) => live.rejected(ids) }, now, stops);
    if (ingest) {
      broker = await startMqtt(ctx, ingest, [held.mqtt, held.mqtts], stops);
      upstream = startUpstreamFeed(ctx, ingest, stops);
    }
    await startJobs(ctx, now, stops);
    const httpUrl = await startApi(ctx, live, held.http, stops, broker);
    return {
      httpUrl,
      mqttUrl: broker ? broker.url : null,
      mqttsUrl: broker?.tlsUrl,
      adminToken: store.admin.token,
      adminTokenSource: store.admin.source === 'ADMIN_TOKEN' ? 'the ADMIN_TOKEN variable' : path.resolve(store.admin.source),
      config,
      ctx,
      ingest,
      alerting,
      async stop(drainMs = 10_000) {
        if (draining) return;
        draining = true;
        await drainThenStop({ alerting, upstream, broker }, stops, logger, drainMs);
      },
    };
  } catch (e) {
    await stops.run(logger);
    throw e;
  }
}

/** What every part of the process is given: configuration, store, logger, metrics and two live questions. */
function contextOf(
  config: AppContext['config'],
  store: Awaited<ReturnType<typeof openStore>>,
  log: Logger,
  live: Pick<AppContext, 'draining' | 'brokerReady'>,
): AppContext {
  return {
    ...live,
    config,
    db: store.db,
    log,
    metrics: createMetrics(),
    tokens: store.tokens,
    credentials: store.credentials,
    devices: store.devices,
    codecSandbox: store.codecSandbox,
  };
}

/** The environment with the overrides a caller (a test, the CLI) gives applied. */
function envWith(o: Overrides): Record<string, string | undefined> {
  const env = { ...(o.env ?? process.env) };
  if (o.dataDir) env.DATA_DIR = o.dataDir;
  if (o.httpPort !== undefined) env.HTTP_PORT = String(o.httpPort);
  if (o.mqttPort !== undefined) env.MQTT_PORT = String(o.mqttPort);
  if (o.adminToken) env.ADMIN_TOKEN = o.adminToken;
  if (o.logLevel) env.LOG_LEVEL = o.logLevel;
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  return env;
}
