// Starts a whole Regenwacht in-process on free ports, on the embedded store or a fresh PostgreSQL database.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { type Overrides, type Running, startRegenwacht } from '../../services/app.ts';
import { freshPgDatabase } from './env.ts';

export interface TestSystem extends Running {
  dataDir: string;
  token: string;
  api<T = any>(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  ok<T = any>(method: string, p: string, body?: unknown): Promise<T>;
  mqttClient(publish?: string[]): Promise<MqttClient>;
  /** stops, and drops the test database */
  close(): Promise<void>;
}

export async function startSystem(
  opts: { store?: 'pglite' | 'pg'; dataDir?: string; env?: Record<string, string>; now?: () => number; databaseUrl?: string; keepData?: boolean } = {},
): Promise<TestSystem> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rw-test-'));
  const token = crypto.randomBytes(24).toString('hex');
  const db = opts.store === 'pg' && !opts.databaseUrl ? await freshPgDatabase({ migrated: true }) : undefined;
  const o: Overrides = {
    dataDir,
    httpPort: 0,
    mqttPort: opts.env?.MQTT_PORT === 'off' ? 'off' : 0,
    adminToken: token,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    databaseUrl: opts.databaseUrl ?? db?.url,
    env: { PATH: process.env.PATH, ...(opts.env ?? {}) },
    now: opts.now,
  };
  const r = await startRegenwacht(o, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const api = async (method: string, p: string, body?: unknown, tk = token) => {
    const res = await fetch(r.httpUrl + p, {
      method,
      headers: { authorization: `Bearer ${tk}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json as any };
  };
  let n = 0;
  return {
    ...r,
    dataDir,
    token,
    api,
    async ok(method, p, body) {
      const x = await api(method, p, body);
      if (x.status >= 300) throw new Error(`${method} ${p} -> ${x.status} ${JSON.stringify(x.body).slice(0, 300)}`);
      return x.body;
    },
    async mqttClient(publish = ['application/+/device/+/event/up', 'v3/+/devices/+/up', 'devices/+/up']) {
      const cred = (await api('POST', '/api/v1/mqtt-credentials', { username: `t${++n}-${crypto.randomBytes(3).toString('hex')}`, publish })).body as {
        username: string;
        password: string;
      };
      const c = mqtt.connect(r.mqttUrl!, { username: cred.username, password: cred.password, reconnectPeriod: 0 });
      await new Promise((res, rej) => {
        c.once('connect', res);
        c.once('error', rej);
      });
      return c;
    },
    async close() {
      await r.stop();
      // not awaited: dropping takes a second or more under load; whatever is left is dropped at the run's end
      void db?.drop().catch(() => {});
      if (!opts.keepData && !opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const publish = (c: MqttClient, topic: string, body: unknown, qos: 0 | 1 = 1) =>
  new Promise<void>((res, rej) =>
    c.publish(topic, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), { qos }, (e) => (e ? rej(e) : res())),
  );

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 8000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < ms) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
