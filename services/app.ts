// Wires the roles of one Regenwacht process. [DESIGN folders] [README.md]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { Reading } from '../alerts/types.ts';
import { buildApi } from './api/app.ts';
import { MqttClientIds } from './auth/mqtt-client-ids.ts';
import { MqttCredentialStore } from './auth/mqtt-credentials.ts';
import { TokenStore } from './auth/token-store.ts';
import { type RunningBroker, startBroker } from './broker/broker.ts';
import { type Config, loadConfig } from './config.ts';
import type { AppContext } from './context.ts';
import type { Db } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { createPgDb } from './db/pg-driver.ts';
import { createPgliteDb } from './db/pglite-driver.ts';
import { DeviceRegistry } from './devices/device-registry.ts';
import { CodecSandbox } from './ingest/codecs/codec-sandbox.ts';
import { IngestService } from './ingest/ingest-service.ts';
import { IngestPipeline } from './ingest/pipeline.ts';
import { createSteps } from './ingest/steps-impl.ts';
import { startPeerFeed } from './ingest/peer-feed.ts';
import { startUpstream, type Upstream } from './ingest/upstream.ts';
import { BatchWriter } from './ingest/writer.ts';
import { createMetrics } from './metrics.ts';
import { startConfigSync } from './config-sync.ts';
import { TimescaleJobs } from './scheduler/timescale-jobs.ts';
import { databaseRefusal, type HeldPort, holdPort, StartError, urlHost } from './start-checks.ts';
import { startAlerting, type Alerting } from './alarms/alerting.ts';
import { LiveFeed } from './web/feed.ts';
import { webConsole } from './web/index.ts';

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

/** PostgreSQL may still be starting (docker-compose, systemd): wait for it, then say clearly if it never came. */
async function waitForDatabase(db: Db, url: string, maxMs: number, log: Logger): Promise<void> {
  const where = (() => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`; // never the password
    } catch {
      return 'DATABASE_URL';
    }
  })();
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query('select 1');
      return;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const refusal = databaseRefusal(e, where);
      if (refusal) throw refusal;
      if (Date.now() - t0 >= maxMs) {
        throw new StartError('DATABASE_UNREACHABLE', `cannot reach the database at ${where} (${err.code ?? err.message}) after ${Math.round(maxMs / 1000)} s; check DATABASE_URL and that PostgreSQL is running`);
      }
      if (attempt === 1 || attempt % 10 === 0) log.warn({ database: where, err: err.code ?? err.message }, 'waiting for the database');
      await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
    }
  }
}

export interface Running {
  httpUrl: string;
  mqttUrl: string | null;
  adminToken: string;
  adminTokenSource: string;
  config: Readonly<Config>;
  ctx: AppContext;
  ingest?: IngestService;
  alerting?: Alerting;
  stop(): Promise<void>;
}

export async function startRegenwacht(o: Overrides = {}, log?: Logger): Promise<Running> {
  const env = { ...(o.env ?? process.env) };
  if (o.dataDir) env.DATA_DIR = o.dataDir;
  if (o.httpPort !== undefined) env.HTTP_PORT = String(o.httpPort);
  if (o.mqttPort !== undefined) env.MQTT_PORT = String(o.mqttPort);
  if (o.adminToken) env.ADMIN_TOKEN = o.adminToken;
  if (o.logLevel) env.LOG_LEVEL = o.logLevel;
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  const loaded = loadConfig(env);
  // Ports before anything else: a taken port is the only thing the user reads, and HTTP_PORT=0 gets its port
  // now so PUBLIC_URL can default to the address the API will really have.
  const held: { http?: HeldPort; mqtt?: HeldPort } = {};
  if (loaded.roles.has('api')) held.http = await holdPort(loaded.bindHost, loaded.httpPort, 'HTTP');
  try {
    if (loaded.roles.has('broker') && typeof loaded.mqttPort === 'number' && loaded.mqttPort !== 0) held.mqtt = await holdPort(loaded.bindHost, loaded.mqttPort, 'MQTT');
  } catch (e) {
    await held.http?.release();
    throw e;
  }
  const httpPort = held.http?.port ?? loaded.httpPort;
  const config: Readonly<Config> = Object.freeze({ ...loaded, httpPort, publicUrl: env.PUBLIC_URL ? loaded.publicUrl : `http://${urlHost(loaded.bindHost)}:${httpPort}` });
  const logger = log ?? pino({ level: config.logLevel, base: { svc: 'regenwacht' } });
  const metrics = createMetrics();

  const stops: Array<() => Promise<void>> = [async () => void (await Promise.all([held.http?.release(), held.mqtt?.release()]))];
  const stop = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (e) {
        logger.warn({ err: (e as Error).message }, 'error during shutdown');
      }
    }
    stops.length = 0;
  };

  try {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const db: Db = config.databaseUrl
      ? createPgDb(config.databaseUrl, { onError: (e) => logger.warn({ err: e.message }, 'database connection error') })
      : await createPgliteDb(config.dataDir, (m) => logger.info(m));
    stops.push(() => db.close());
    if (config.databaseUrl) await waitForDatabase(db, config.databaseUrl, o.dbWaitMs ?? 60_000, logger);
    await migrate(db, { log: (m) => logger.info(m) });
    logger.info({ driver: db.kind, timescale: db.timescale }, 'database ready');

    const tokens = new TokenStore(db);
    const admin = await tokens.ensureAdmin(config.dataDir, config.adminToken);
    const credentials = new MqttCredentialStore(db);
    await credentials.load();
    const devices = new DeviceRegistry(db);
    await devices.load();
    const codecSandbox = new CodecSandbox({}, logger.child({ component: 'codec-sandbox' }));
    stops.push(() => codecSandbox.close());

    let broker: RunningBroker | undefined;
    let upstream: Upstream | undefined;
    const ctx: AppContext = {
      config,
      db,
      log: logger,
      metrics,
      tokens,
      credentials,
      devices,
      codecSandbox,
      brokerReady: () => (config.mqttPort === 'off' || !!broker) && (!config.upstream || !!upstream?.ready()),
    };

    const now = o.now ?? Date.now;
    // what the web console shows live: committed readings and stored alarm changes
    const live = new LiveFeed();
    let alerting: Alerting | undefined;
    if (config.roles.has('ingest') || config.roles.has('api') || config.roles.has('notifier') || config.roles.has('scheduler')) {
      alerting = await startAlerting(ctx, {
        now,
        evaluate: config.roles.has('ingest') || config.roles.has('broker'),
        notify: config.roles.has('notifier'),
        schedule: config.roles.has('scheduler'),
        onAlarmChanged: (a, kind) => live.alarm(a, kind),
      });
      ctx.alarms = alerting.alarms;
      stops.push(() => alerting!.stop());
    }

    let ingest: IngestService | undefined;
    if (config.roles.has('ingest') || config.roles.has('broker')) {
      const steps = await createSteps(db, codecSandbox, now);
      ctx.codecs = steps.codecs;
      const up = config.upstream;
      // with a $share group, each instance evaluates all readings: its own and those its peers committed
      const peers =
        alerting && up?.shareGroup && config.roles.has('ingest')
          ? startPeerFeed({ url: up.url, username: up.username, password: up.password, group: up.shareGroup }, (rs) => alerting!.onReadings(rs), logger)
          : undefined;
      if (peers) stops.push(() => peers.close());
      // committed readings go on to the rule engine, the peers and the console's live board
      const onCommitted = (rs: Reading[]) => {
        alerting?.onReadings(rs);
        peers?.publish(rs);
        live.readings(rs);
      };
      const writer = new BatchWriter(db, logger.child({ component: 'writer' }), metrics, { onCommitted });
      stops.push(() => writer.close());
      ingest = new IngestService(new IngestPipeline(devices, steps), writer, metrics, logger.child({ component: 'ingest' }));
      const handle = (m: Parameters<IngestService['handle']>[0]) => ingest!.handle(m);
      if (config.roles.has('broker') && config.mqttPort !== 'off') {
        await held.mqtt?.release();
        broker = await startBroker(config.bindHost, config.mqttPort, {
          credentials,
          clientIds: new MqttClientIds(db),
          devices,
          ingest: handle,
          refused: (m, reason, message) => ingest!.refused(m, reason, message),
          log: logger,
          maxPacketBytes: config.mqtt.maxPacketBytes,
          connectTimeoutMs: config.mqtt.connectTimeoutMs,
          maxPendingPerAddress: config.mqtt.maxPendingPerAddress,
        });
        stops.push(() => broker!.close());
      }
      if (config.upstream && config.roles.has('ingest')) {
        upstream = startUpstream({ ...config.upstream, clientId: upstreamClientId(config.dataDir) }, handle, logger);
        stops.push(() => upstream!.close());
      }
    }

    if (db.kind === 'pglite' && db.timescale && config.roles.has('scheduler')) {
      const jobs = new TimescaleJobs(db, logger.child({ component: 'timescale-jobs' }), now);
      jobs.start();
      stops.push(() => jobs.stop());
    }

    // Only a shared PostgreSQL can be changed by another process; the embedded store belongs to this one.
    if (config.databaseUrl) {
      const sync = startConfigSync(ctx, logger.child({ component: 'config-sync' }));
      stops.push(async () => sync.stop());
    }

    let httpUrl = '';
    if (config.roles.has('api')) {
      const api = await buildApi(ctx, logger);
      await api.register(webConsole, { ctx, feed: live });
      try {
        await held.http?.release();
        await api.listen({ host: config.bindHost, port: config.httpPort });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new StartError('PORT_IN_USE', `HTTP port ${config.httpPort} on ${config.bindHost} is already in use; choose another with HTTP_PORT=<port> (0 = any free port)`);
        }
        throw e;
      }
      stops.push(() => api.close());
      const addr = api.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.httpPort;
      httpUrl = `http://${config.bindHost}:${port}`;
    }

    return {
      httpUrl,
      mqttUrl: broker ? broker.url : null,
      adminToken: admin.token,
      adminTokenSource: admin.source === 'ADMIN_TOKEN' ? 'the ADMIN_TOKEN variable' : path.resolve(admin.source),
      config,
      ctx,
      ingest,
      alerting,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Stable across restarts of one instance (its persistent session and queued uplinks survive), distinct for
 * two instances on one host: with the same client id the upstream broker would kick one off for the other.
 */
export function upstreamClientId(dataDir: string): string {
  return `rw-${crypto.createHash('sha256').update(`${os.hostname()}\0${path.resolve(dataDir)}`).digest('hex').slice(0, 20)}`;
}
