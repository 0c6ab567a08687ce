// npm run bench:readings [-- --database-url URL | --embedded] [--rate 2000 --requests 20 --warmup 20] — the readings API over a year of
// 5-minute data for one device in 1-hour buckets (GET /api/v1/devices/{id}/readings?bucket=1h), first on an
// idle server, then while 1 000 device connections ingest at --rate msgs/s through the embedded broker.
// Progress goes to stderr; the last stdout line is one JSON object. See docs/benchmarks.md.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { EVALUATED_SQL } from '../alerts/types.ts';
import { bucketsJson } from '../services/api/routes/readings.ts';
import type { Running } from '../services/app.ts';
import type { Db, Queryable } from '../services/db/db.ts';
import { bucketSeries } from '../services/devices/readings.ts';
import { child, killChildren, say, sleep } from './harness.ts';
import { benchServer, DEFAULT_DATABASE_URL, insertDevices, uplinkCredential } from './setup.ts';

const { values: a } = parseArgs({
  options: {
    'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
    rate: { type: 'string', default: '2000' },
    devices: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '20' },
    // requests before the timed ones: PGlite's WebAssembly is compiled optimised while it runs (one compile thread),
    // and a server that has answered for a while is past that; 3 until the sixth session
    warmup: { type: 'string', default: '20' },
    'log-level': { type: 'string', default: 'warn' },
    embedded: { type: 'boolean', default: false },
  },
});
const RATE = Number(a.rate);
const N_DEV = Number(a.devices);
const N_REQ = Number(a.requests);
const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : Number.NaN;
};

const deadline = setTimeout(() => {
  say('exceeded the time limit; giving up');
  process.exit(1);
}, 600_000);
deadline.unref();

async function main() {
  const s = await benchServer({ label: 'readings', store: a.embedded ? 'embedded' : 'pg', adminUrl: a['database-url'], logLevel: a['log-level'] as string });
  const start = s.start;
  let r: Running | undefined;
  try {
    r = await start();
    await insertDevices(r, [
      { prefix: 'year-', count: 1, from: 1 },
      { prefix: 'load-', count: N_DEV },
    ]);
    // a year of 5-minute water levels ending now (105 120 rows), a slow wave with a daily ripple
    const t0 = performance.now();
    await r.ctx.db.query(
      `insert into readings(device_id, metric, time, value, quality)
       select 'year-1', 'level_cm', t, 80 + 40 * sin(extract(epoch from t) / 86400 / 7) + 5 * sin(extract(epoch from t) / 3600), 0
       from generate_series(date_trunc('minute', now()) - interval '365 days', date_trunc('minute', now()), interval '5 minutes') as t`,
    );
    await r.ctx.db.exec('analyze readings');
    // on TimescaleDB the hourly rollup as a running system has it: the refresh policy has materialised every
    // hour up to the current one (a year of history arrives over a year); the newest hour stays real-time
    if (r.ctx.db.timescale) await r.ctx.db.exec(`call refresh_continuous_aggregate('readings_1h', null, date_trunc('hour', now()))`);
    say(`a year of 5-minute readings inserted in ${Math.round(performance.now() - t0)} ms`);
    const password = await uplinkCredential(s, r, 'load');
    await r.stop();
    r = await start();
    const to = new Date();
    const from = new Date(to.getTime() - 365 * 86_400_000);
    const url = `${r.httpUrl}/api/v1/devices/year-1/readings?metric=level_cm&bucket=1h&limit=100000&from=${from.toISOString()}&to=${to.toISOString()}`;
    const timeRequests = async (n: number) => {
      const ms: number[] = [];
      const cpu: number[] = [];
      let points = 0;
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const c = process.cpuUsage();
        const resp = await fetch(url, { headers: { authorization: `Bearer ${s.token}` } });
        const text = await resp.text();
        ms.push(performance.now() - t);
        const dc = process.cpuUsage(c);
        cpu.push((dc.user + dc.system) / 1000);
        points = (JSON.parse(text) as { points: unknown[] }).points.length;
        await sleep(50);
      }
      // cpu: this process's CPU time during the request (server, PGlite, the client's fetch; under load also
      // whatever ingest ran meanwhile)
      return { p50: r2(pct(ms, 50)), p95: r2(pct(ms, 95)), max: r2(Math.max(...ms)), cpuP50: r2(pct(cpu, 50)), points };
    };
    await timeRequests(Number(a.warmup));
    const idle = await timeRequests(N_REQ);
    say(`idle: p50 ${idle.p50} ms, p95 ${idle.p95} ms (${idle.points} buckets)`);
    // the store's query alone (rollup on TimescaleDB, raw on PostgreSQL; and raw on both), and writing the
    // response's JSON, wall time of 5 calls each in-process
    const storeMs: number[] = [];
    const rawMs: number[] = [];
    const jsonMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      const b = await bucketSeries(r.ctx.db, 'year-1', 'level_cm', from, to, 3_600_000, 'avg', 100_000);
      storeMs.push(performance.now() - t);
      t = performance.now();
      bucketsJson('year-1', 'level_cm', 'cm', b);
      jsonMs.push(performance.now() - t);
      t = performance.now();
      await bucketSeries(r.ctx.db, 'year-1', 'level_cm', from, to, 3_600_000, 'avg', 100_000, { rollup: false });
      rawMs.push(performance.now() - t);
    }
    // the raw SQL alone, as PostgreSQL plans and runs it
    const explain = await r.ctx.db.query<Record<string, string>>(
      `explain (analyze, format json) select date_bin('3600 seconds'::interval, time, timestamptz '2000-01-01') as t, avg(value) from readings
       where device_id = 'year-1' and metric = 'level_cm' and time >= $1 and time < $2 and ${EVALUATED_SQL} group by 1 order by 1`,
      [from, to],
    );
    const plan = (Object.values(explain.rows[0])[0] as unknown as Array<{ 'Execution Time': number; 'Planning Time': number }>)[0];
    // the store's own statement (on TimescaleDB the one reading the rollup), as PostgreSQL plans and runs it
    const seen: { sql?: string; params?: unknown[] } = {};
    const spy = (q: Queryable): Queryable => ({
      query: (sql, params) => {
        if (sql.includes('as packed')) Object.assign(seen, { sql, params });
        return q.query(sql, params);
      },
      exec: (sql) => q.exec(sql),
    });
    const db = r.ctx.db;
    const spyDb: Db = { ...db, kind: db.kind, timescale: db.timescale, ...spy(db), transaction: (fn) => db.transaction((tx) => fn(spy(tx))) };
    await bucketSeries(spyDb, 'year-1', 'level_cm', from, to, 3_600_000, 'avg', 100_000);
    const storePlan = [];
    for (let i = 0; i < 3; i++) {
      const e = await db.query<Record<string, string>>(`explain (analyze, format json) ${seen.sql}`, seen.params);
      storePlan.push((Object.values(e.rows[0])[0] as unknown as Array<{ 'Execution Time': number; 'Planning Time': number }>)[0]);
    }
    const mqttPort = Number(new URL(r.mqttUrl as string).port);
    const load = child('load', {
      port: mqttPort,
      username: 'load',
      password,
      devices: N_DEV,
      prefix: 'load-',
      baseTime: Date.now() - 3_600_000,
    });
    await load.wait('connected', 120_000);
    load.proc.send({ cmd: 'rate', rate: RATE, maxMs: 300_000 });
    await sleep(3000);
    const loaded = await timeRequests(N_REQ);
    load.proc.send({ cmd: 'endrate' });
    const bg = await load.wait('rate', 30_000);
    say(`while ingesting ${bg.msgsPerS} msgs/s: p50 ${loaded.p50} ms, p95 ${loaded.p95} ms`);
    load.proc.send({ cmd: 'stop' });
    const result = {
      store: r.ctx.db.kind === 'pglite' ? 'embedded (PGlite + TimescaleDB)' : r.ctx.db.timescale ? 'postgresql + timescaledb' : 'postgresql',
      rows: 105_121,
      buckets: idle.points,
      idle_ms_p50: idle.p50,
      idle_ms_p95: idle.p95,
      idle_cpu_ms_p50: idle.cpuP50,
      under_load_ms_p50: loaded.p50,
      under_load_ms_p95: loaded.p95,
      under_load_ms_max: loaded.max,
      under_load_cpu_ms_p50: loaded.cpuP50,
      background_msgs_per_s: bg.msgsPerS,
      background_puback_ms_p99: bg.pubackP99,
      store_query_ms_p50: r2(pct(storeMs, 50)),
      store_query_raw_path_ms_p50: r2(pct(rawMs, 50)),
      json_ms_p50: r2(pct(jsonMs, 50)),
      raw_sql_execution_ms: r2(plan['Execution Time']),
      raw_sql_planning_ms: r2(plan['Planning Time']),
      store_sql_planning_ms: r2(
        pct(
          storePlan.map((p) => p['Planning Time']),
          50,
        ),
      ),
      store_sql_execution_ms: r2(
        pct(
          storePlan.map((p) => p['Execution Time']),
          50,
        ),
      ),
      requests: N_REQ,
      warmup: Number(a.warmup),
      loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10),
      node: process.version,
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (r) await r.stop().catch(() => {});
    killChildren();
    await s.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    say(`failed: ${(e as Error).stack}`);
    process.exit(1);
  },
);
