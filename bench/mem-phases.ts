// node --expose-gc --import tsx bench/mem-phases.ts [--devices N] [--messages M] [--idle S]: the memory of one Regenwacht
// (PostgreSQL store, in this process) phase by phase: ready, idle, N device connections (bench/load.ts), a burst of M
// messages (8 unacknowledged per device, at most 60 s), each before and after a full GC (rss, heapUsed, external).
// The 10k-device memory figures of docs/benchmarks.md ("Memory, fifth session"); bench.ts waits only 60 s for connections.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import pg from 'pg';
import { pino } from 'pino';
import { type Running, startRegenwacht } from '../services/app.ts';
import { child, killChildren, say, sleep } from './harness.ts';

const { values: a } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '0' },
    idle: { type: 'string', default: '6' },
    snap: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const N = Number(a.devices);
const mb = (b: number) => Math.round(b / 1048576);
const mem = (tag: string) => {
  const m = process.memoryUsage();
  const h = v8.getHeapStatistics();
  say(
    `${tag}: rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} malloced ${mb(h.malloced_memory)}`,
  );
  return m;
};
const gc = () => (globalThis as { gc?: () => void }).gc?.();
async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-mp-'));
  const dbName = `rw_mp_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const token = crypto.randomBytes(24).toString('hex');
  const logger = pino({ level: a['log-level'] }, pino.destination({ dest: 2, sync: false }));
  const env = {
    PATH: process.env.PATH,
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('INGEST_') || k.startsWith('MQTT_') || k.startsWith('DWD_'))),
  };
  const start = () => startRegenwacht({ dataDir, httpPort: 0, mqttPort: 0, adminToken: token, logLevel: a['log-level'], databaseUrl, env }, logger);
  let r: Running | undefined = await start();
  const ids: string[] = [];
  for (let i = 0; i < Math.max(N, 10000); i++) ids.push(i < N ? `bench-${i}` : `idle-${i}`);
  await r.ctx.db.query(`insert into devices(id, name, model, tags) select id, id, 'generic', '{}'::jsonb from unnest($1::text[]) as u(id)`, [ids]);
  const res = await fetch(`${r.httpUrl}/api/v1/mqtt-credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench', publish: ['devices/+/up'] }),
  });
  const cred = (await res.json()) as { password: string };
  await r.stop();
  r = await start();
  mem('ready');
  let peak = 0;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  for (let i = 0; i < Number(a.idle); i++) {
    await sleep(1000);
    mem(`idle ${i + 1}s`);
  }
  gc();
  mem('idle after gc');
  peak = 0;
  const load = child('load', {
    port: Number(new URL(r.mqttUrl!).port),
    username: 'bench',
    password: cred.password,
    devices: N,
    prefix: 'bench-',
    baseTime: Date.now() - 12 * 3_600_000,
  });
  const c = await load.wait('connected', 400_000);
  say(`${N} connected in ${c.ms} ms; peak rss while connecting ${mb(peak)}`);
  mem('connected');
  gc();
  mem('connected after gc');
  if (a.snap) v8.writeHeapSnapshot(`${a.snap}-connected.heapsnapshot`);
  if (Number(a.messages)) {
    peak = 0;
    const t0 = Date.now();
    const tm = setInterval(() => mem('burst'), 2000);
    load.proc.send({ cmd: 'burst', messages: Number(a.messages), window: 8, maxMs: 60_000 });
    const b = await load.wait('burst', 300_000);
    clearInterval(tm);
    say(`burst ${JSON.stringify(b)} peak rss ${mb(peak)} in ${Date.now() - t0} ms`);
    mem('after burst');
    gc();
    mem('after burst gc');
    const rows = (await r.ctx.db.query<{ n: number }>(`select count(*)::int n from readings`)).rows[0].n;
    say(`rows ${rows}`);
  }
  clearInterval(t);
  load.proc.send({ cmd: 'stop' });
  await r.stop();
  killChildren();
  const ad = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await ad.connect();
  await ad.query(`drop database if exists ${dbName} with (force)`);
  await ad.end();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    killChildren();
    process.exit(1);
  },
);
