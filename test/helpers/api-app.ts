// The HTTP API built on fakes, for app.inject() tests: no port, no database, no broker. Requests carry one of
// the tokens below; every SQL statement is recorded and answers with no rows.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { pino } from 'pino';
import { createAlarmFeature } from '../../services/alarms/alarm-feature.ts';
import { buildApi } from '../../services/api/app.ts';
import type { Principal } from '../../services/auth/token-store.ts';
import { loadConfig } from '../../services/config.ts';
import type { AppContext } from '../../services/context.ts';
import type { Db, Queryable } from '../../services/db/db.ts';
import { DeviceRegistry } from '../../services/devices/device-registry.ts';
import { CodecStore } from '../../services/ingest/codec-store.ts';
import { createMetrics } from '../../services/metrics.ts';
import { LiveFeed } from '../../services/web/feed.ts';
import { webConsole } from '../../services/web/index.ts';

export const TOKENS: Record<string, Principal> = {
  admin: { tokenId: 1, name: 'admin', role: 'admin', org: null },
  operator: { tokenId: 2, name: 'anna', role: 'operator', org: null },
  viewer: { tokenId: 3, name: 'vera', role: 'viewer', org: null },
};

export interface FakeApi {
  app: FastifyInstance;
  /** the web console's routes as registered (with `console: true`) */
  consoleRoutes: RouteOptions[];
  /** SQL statements run so far, in order */
  sql: string[];
  /** app.inject with a bearer token of TOKENS (default admin) */
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, as?: keyof typeof TOKENS): Promise<{ status: number; body: any }>;
}

/** `console`: the web console's pages too, on the same app (as `startApi` builds it). */
export async function fakeApi(o: { console?: boolean } = {}): Promise<FakeApi> {
  const sql: string[] = [];
  const q: Queryable = {
    async query<T>(text: string) {
      sql.push(text.replace(/\s+/g, ' ').trim());
      return { rows: [] as T[], rowCount: 1 };
    },
    async exec() {},
  };
  const db: Db = { ...q, kind: 'pglite', timescale: false, transaction: (fn) => fn(q), ping: async () => true, close: async () => {} };
  const config = loadConfig({ ADMIN_TOKEN: 'x'.repeat(32), DATA_DIR: '/nonexistent', PUBLIC_URL: 'http://127.0.0.1:8080' });
  const devices = new DeviceRegistry(db);
  const { alarms, rules, routes } = createAlarmFeature(db, devices, { publicUrl: config.publicUrl, now: Date.now });
  const alarmParts = { alarms, rules, routes };
  const tokens = { verify: async (t: string) => TOKENS[t] ?? null } as unknown as AppContext['tokens'];
  const ctx: AppContext = {
    config,
    db,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    tokens,
    credentials: {} as AppContext['credentials'],
    devices,
    codecSandbox: {} as AppContext['codecSandbox'],
    brokerReady: () => true,
    draining: () => false,
    ...alarmParts,
    codecs: new CodecStore(db),
  };
  const app = await buildApi(ctx, ctx.log);
  const consoleRoutes: RouteOptions[] = [];
  if (o.console) {
    app.addHook('onRoute', (r) => void consoleRoutes.push(r));
    await app.register(webConsole, { ctx, feed: new LiveFeed() });
  }
  await app.ready();
  return {
    app,
    consoleRoutes,
    sql,
    async call(method, url, body, as = 'admin') {
      const r = await app.inject({ method, url, headers: { authorization: `Bearer ${as}` }, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
    },
  };
}
