// The setup every bench repeats, in one place: a fresh store (a new PostgreSQL database or an embedded data
// directory) and its cleanup, a started Regenwacht, the admin API, devices inserted in bulk, an MQTT credential,
// and the alarm path the probes measure (a threshold rule on devices tagged bench=alarm, a webhook route to the
// probe child's receiver).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { type Running, startRegenwacht } from '../services/app.ts';
import type { LoadChild } from './harness.ts';

export const DEFAULT_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchServer {
  store: 'pg' | 'embedded';
  dataDir: string;
  /** the fresh database's URL on PostgreSQL, undefined for the embedded store */
  databaseUrl?: string;
  token: string;
  /** starts Regenwacht on this store (again after a stop: same data) */
  start: () => Promise<Running>;
  /** the admin API of `r` with the admin token; throws on a status ≥ 300 */
  api: (r: Running, method: string, p: string, body?: unknown) => Promise<any>;
  /** drops the database and removes the data directory */
  cleanup: () => Promise<void>;
}

/** A fresh store named `label` (a new database on PostgreSQL, a temporary data directory either way). */
export async function benchServer(o: {
  label: string;
  store: 'pg' | 'embedded';
  adminUrl?: string;
  logLevel: string;
  env?: Record<string, string | undefined>;
}): Promise<BenchServer> {
  const adminUrl = o.adminUrl ?? DEFAULT_DATABASE_URL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rw-${o.label}-`));
  let dbName: string | undefined;
  let databaseUrl: string | undefined;
  if (o.store === 'pg') {
    dbName = `rw_${o.label}_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const token = crypto.randomBytes(24).toString('hex');
  const logger = pino({ level: o.logLevel, base: { svc: 'regenwacht' } }, pino.destination({ dest: 2, sync: false }));
  return {
    store: o.store,
    dataDir,
    databaseUrl,
    token,
    start: () =>
      startRegenwacht(
        { dataDir, httpPort: 0, mqttPort: 0, adminToken: token, logLevel: o.logLevel, databaseUrl, env: o.env ?? { PATH: process.env.PATH } },
        logger,
      ),
    api: async (r, method, p, body) => {
      const res = await fetch(r.httpUrl + p, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${p} -> ${res.status} ${text.slice(0, 300)}`);
      return JSON.parse(text);
    },
    cleanup: async () => {
      if (dbName) {
        const admin = new pg.Client({ connectionString: adminUrl });
        await admin.connect();
        await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
        await admin.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Devices in one SQL statement: for each group, `<prefix>0 … <prefix>(count-1)` with `tags`. */
export async function insertDevices(
  r: Running,
  groups: Array<{ prefix: string; count: number; tags?: Record<string, string>; from?: number }>,
): Promise<number> {
  const ids: string[] = [];
  const tags: string[] = [];
  for (const g of groups) {
    const t = JSON.stringify(g.tags ?? {});
    for (let i = g.from ?? 0; i < (g.from ?? 0) + g.count; i++) {
      ids.push(`${g.prefix}${i}`);
      tags.push(t);
    }
  }
  await r.ctx.db.query(
    `insert into devices(id, name, model, tags) select id, 'Bench ' || id, 'generic', t::jsonb from unnest($1::text[], $2::text[]) as u(id, t)`,
    [ids, tags],
  );
  return ids.length;
}

/** An MQTT credential allowed to publish uplinks; returns its password. */
export async function uplinkCredential(s: BenchServer, r: Running, username: string): Promise<string> {
  const cred = await s.api(r, 'POST', '/api/v1/mqtt-credentials', { username, publish: ['devices/+/up'] });
  return cred.password as string;
}

/** The alarm path the probes measure: a threshold rule (level_cm ≥ 100 → moderate, no delay) on devices tagged
 *  bench=alarm and a webhook route for firing alarms to the receiver of `probe` (a bench/load.ts probe child).
 *  Returns the receiver's URL. */
export async function alarmPath(s: BenchServer, r: Running, probe: LoadChild, name: string): Promise<string> {
  await s.api(r, 'POST', '/api/v1/rules', {
    name: `${name} threshold`,
    kind: 'threshold',
    metric: 'level_cm',
    scope: { tags: { bench: 'alarm' } },
    levels: [{ severity: 'moderate', threshold: 100 }],
    for: '0m',
    clear: { hysteresis: 0, for: '0m' },
    mode: 'active',
  });
  const hook = await probe.wait('listening');
  await s.api(r, 'POST', '/api/v1/routes', {
    name: `${name} webhook`,
    match: { minSeverity: 'moderate' },
    targets: [{ type: 'webhook', url: hook.url, secret: `whsec_${crypto.randomBytes(24).toString('base64')}`, format: 'regenwacht' }],
    notifyOn: ['firing'],
  });
  return hook.url;
}
