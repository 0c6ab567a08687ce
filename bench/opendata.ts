// npm run bench:opendata [-- --store pg|embedded] — the open-data read path on one Datastream with a year of
// 5-minute observations (105 120 rows): the latest value, a 1 000-row page (first, deep by $skip, and as deep by
// following @iot.nextLink), the year as CSV
// (time and RSS growth while streaming), and the alarm latency of the warning path with and without 50
// concurrent open-data clients. Progress on stderr; the last stdout line is one JSON object. [docs/benchmarks.md]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { startRegenwacht } from '../services/app.ts';

const { values: a } = parseArgs({
  options: {
    store: { type: 'string', default: 'pg' },
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    rows: { type: 'string', default: '105120' },
    runs: { type: 'string', default: '40' },
    clients: { type: 'string', default: '50' },
    alarms: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    explain: { type: 'boolean', default: false },
  },
});
const store = a.store === 'embedded' || a.store === 'pglite' ? 'embedded' : 'pg';
const ROWS = Number(a.rows);
const RUNS = Number(a.runs);
const T0 = Date.UTC(2025, 0, 1);
const STEP = 300_000;
const T_START = Date.now();
const say = (s: string) => process.stderr.write(`[bench:opendata +${((Date.now() - T_START) / 1000).toFixed(1)}s] ${s}\n`);
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};
// the embedded store's alarm rounds (every API call and reading through one WebAssembly PostgreSQL) take
// several minutes on a loaded machine
const LIMIT_S = store === 'embedded' ? 1500 : 600;
const deadline = setTimeout(() => {
  say(`exceeded ${LIMIT_S} s; giving up`);
  process.exit(1);
}, LIMIT_S * 1000);
deadline.unref();

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-od-'));
  let dbName: string | undefined;
  let databaseUrl: string | undefined;
  if (store === 'pg') {
    dbName = `rw_bench_od_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: a['database-url'] });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(a['database-url'] as string);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const token = crypto.randomBytes(24).toString('hex');
  const r = await startRegenwacht(
    { dataDir, httpPort: 0, mqttPort: 0, adminToken: token, databaseUrl, env: { PATH: process.env.PATH } },
    pino({ level: 'warn' }),
  );
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(r.httpUrl + p, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  try {
    say(`store ${store} (${r.ctx.db.kind}, timescale ${r.ctx.db.timescale})`);
    await api('POST', '/api/v1/devices', { id: 'bench-01', name: 'Bench-Pegel', model: 'generic', location: { lat: 50.58, lon: 8.67 } });
    await api('PUT', '/api/v1/orgs/default/open-data', { enabled: true, publisher: 'Bench' });
    const t0 = Date.now();
    for (let from = 0; from < ROWS; from += 10_000) {
      const n = Math.min(10_000, ROWS - from);
      const times = Array.from({ length: n }, (_, i) => new Date(T0 + (from + i) * STEP).toISOString());
      const values = Array.from({ length: n }, (_, i) => 100 + Math.sin((from + i) / 500) * 50);
      await r.ctx.db.query(
        `insert into readings(time, device_id, metric, value, quality) select t, 'bench-01', 'level_cm', v, 0 from unnest($1::timestamptz[], $2::float8[]) as x(t, v)`,
        [times, values],
      );
    }
    say(`${ROWS} rows inserted in ${Date.now() - t0} ms`);
    if (r.ctx.db.timescale) {
      // A year inserted at once lands in 365 day-chunks that are all older than the compression policy's 7 days;
      // left alone, the embedded scheduler would compress them while the timed phase runs (that made the first
      // embedded run unusable). Live data is compressed a day at a time, so compress first, then measure — the
      // queries below then read compressed chunks, as they would on a running installation.
      const tc = Date.now();
      const jobs = await r.ctx.db.query<{ job_id: number }>(
        `select job_id from timescaledb_information.jobs where proc_name = 'policy_compression' and hypertable_name = 'readings'`,
      );
      for (const j of jobs.rows) await r.ctx.db.exec(`call run_job(${Number(j.job_id)})`);
      const c = await r.ctx.db.query<{ n: string }>(
        `select count(*) as n from timescaledb_information.chunks where hypertable_name = 'readings' and is_compressed`,
      );
      say(`compressed ${c.rows[0]?.n} chunks in ${Date.now() - tc} ms`);
    }
    await r.ctx.db.query('analyze readings');

    // --explain: the plans of the statements the timed requests run (explain analyze after one warm request)
    const captured: Array<{ sql: string; params: unknown[]; ms: number }> = [];
    const db = r.ctx.db;
    const query = db.query.bind(db);
    const explain = async (label: string, url: string) => {
      if (!a.explain) return;
      captured.length = 0;
      (db as { query: typeof db.query }).query = (async (sql: string, params?: unknown[]) => {
        const s0 = performance.now();
        const res = await query(sql, params);
        captured.push({ sql, params: params ?? [], ms: performance.now() - s0 });
        return res;
      }) as typeof db.query;
      const s0 = performance.now();
      await (await fetch(url)).arrayBuffer();
      const total = performance.now() - s0;
      (db as { query: typeof db.query }).query = query;
      say(`${label}: ${Math.round(total)} ms for the request, of it in queries: ${captured.map((c) => Math.round(c.ms)).join(' + ')} ms`);
      for (const c of captured.filter((x) => /\breadings\b/.test(x.sql)).slice(0, 4)) {
        const plan = await query<Record<string, string>>(`explain (analyze, costs off) ${c.sql}`, c.params);
        say(`plan of ${label}:\n  ${c.sql.replace(/\s+/g, ' ').slice(0, 300)}…\n${plan.rows.map((x) => `    ${Object.values(x)[0]}`).join('\n')}`);
      }
    };

    const STA = `${r.httpUrl}/sta/v1.1/Datastreams('bench-01~level_cm')/Observations`;
    const time = async (url: string, check: (b: any) => void) => {
      const ms: number[] = [];
      for (let i = 0; i < RUNS + 3; i++) {
        const s = performance.now();
        const res = await fetch(url);
        const b = await res.json();
        const d = performance.now() - s;
        check(b);
        if (i >= 3) ms.push(d); // the first three warm the caches
      }
      return { p50: pct(ms, 50), p95: pct(ms, 95), max: pct(ms, 100) };
    };
    const latest = await time(`${STA}?$orderby=phenomenonTime%20desc&$top=1`, (b) => {
      if (b.value[0].phenomenonTime !== new Date(T0 + (ROWS - 1) * STEP).toISOString()) throw new Error('not the latest');
    });
    say(`latest value: p50 ${latest.p50} ms, p95 ${latest.p95} ms`);
    await explain('latest value', `${STA}?$orderby=phenomenonTime%20desc&$top=1`);
    const page = await time(`${STA}?$top=1000`, (b) => {
      if (b.value.length !== 1000) throw new Error('short page');
    });
    say(`1000-row page (first): p50 ${page.p50} ms, p95 ${page.p95} ms`);
    await explain('1000-row page', `${STA}?$top=1000`);
    const deep = await time(`${STA}?$top=1000&$skip=100000`, (b) => {
      if (b.value.length !== 1000) throw new Error('short page');
    });
    say(`1000-row page at $skip=100000: p50 ${deep.p50} ms, p95 ${deep.p95} ms`);
    // the same depth reached as a client does, by following @iot.nextLink: a $skiptoken cursor, no rows skipped
    const before = (await (await fetch(`${STA}?$top=1000&$skip=${ROWS - 6120}`)).json()) as { '@iot.nextLink'?: string };
    const link = before['@iot.nextLink'];
    if (!link?.includes('$skiptoken=')) throw new Error(`no keyset nextLink: ${link}`);
    const keyset = await time(link, (b) => {
      if (b.value.length !== 1000) throw new Error('short page');
    });
    say(`1000-row page ${ROWS - 5120} rows deep via @iot.nextLink ($skiptoken): p50 ${keyset.p50} ms, p95 ${keyset.p95} ms`);

    // the year as CSV, read as it streams; RSS sampled every 10 ms
    const year = new Date(T0).getUTCFullYear();
    const csv: Array<{ ms: number; rssGrowthMb: number; bytes: number; rows: number }> = [];
    for (let i = 0; i < 3; i++) {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 10);
      const s = performance.now();
      const res = await fetch(`${r.httpUrl}/open/downloads/bench-01/level_cm/${year}.csv`);
      let bytes = 0;
      let rows = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        for (const c of chunk) if (c === 10) rows++;
      }
      const ms = performance.now() - s;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      csv.push({ ms: Math.round(ms), rssGrowthMb: mb(peak - before), bytes, rows: rows - 1 });
      say(`year CSV: ${Math.round(ms)} ms, ${mb(bytes)} MB, ${rows - 1} rows, RSS growth ${mb(peak - before)} MB`);
    }

    // alarm latency: a reading over the threshold published over MQTT until its alarm is stored, alone and
    // while 50 clients keep asking the SensorThings API and downloading CSV
    const alarmSamples = async (label: string) => {
      const ms: number[] = [];
      const cred = await api('POST', '/api/v1/mqtt-credentials', { username: `bench-${label}`, publish: ['devices/+/up'] });
      const c = mqtt.connect(r.mqttUrl as string, { username: cred.username, password: cred.password, reconnectPeriod: 0 });
      await new Promise((res, rej) => {
        c.once('connect', res);
        c.once('error', rej);
      });
      for (let i = 0; i < Number(a.alarms); i++) {
        const id = `alarm-${label}-${i}`;
        await api('POST', '/api/v1/devices', { id, name: id, model: 'generic' });
        await api('POST', '/api/v1/rules', {
          name: id,
          kind: 'threshold',
          metric: 'level_cm',
          scope: { deviceIds: [id] },
          levels: [{ severity: 'severe', threshold: 100 }],
        });
        const s = performance.now();
        await new Promise<void>((res, rej) =>
          c.publish(`devices/${id}/up`, JSON.stringify({ readings: { level_cm: 150 } }), { qos: 1 }, (e) => (e ? rej(e) : res())),
        );
        for (let k = 0; k < 1000; k++) {
          const q = await r.ctx.db.query('select 1 from alarms where device_id = $1', [id]);
          if (q.rows.length) break;
          await new Promise((x) => setTimeout(x, 2));
        }
        ms.push(performance.now() - s);
      }
      c.end(true);
      return ms;
    };
    // Rounds of "alone" then "with the clients", so a change in the machine's load during the run (other
    // processes) falls on both sides alike instead of on whichever phase ran second.
    let busyNow = false;
    let stop = false;
    let requests = 0;
    let errors = 0;
    let firstError = '';
    const urls = [`${STA}?$orderby=phenomenonTime%20desc&$top=1`, `${STA}?$top=1000&$skip=50000`, `${r.httpUrl}/sta/v1.1/Things?$expand=Datastreams`];
    const clients = Array.from({ length: Number(a.clients) }, async (_, i) => {
      while (!stop) {
        if (!busyNow) {
          await new Promise((x) => setTimeout(x, 20));
          continue;
        }
        try {
          const res = await fetch(i % 10 === 0 ? `${r.httpUrl}/open/downloads/bench-01/level_cm/${year}-0${1 + (i % 9)}.csv` : urls[i % urls.length]);
          await res.arrayBuffer();
          if (res.status >= 400) throw new Error(`HTTP ${res.status}`);
          requests++;
        } catch (e) {
          errors++;
          firstError ||= `${(e as Error).message}${(e as Error).cause ? ` (${((e as Error).cause as Error).message})` : ''}`;
        }
      }
    });
    const alone: number[] = [];
    const loaded: number[] = [];
    for (let round = 0; round < Number(a.rounds); round++) {
      busyNow = false;
      await new Promise((x) => setTimeout(x, 1000));
      alone.push(...(await alarmSamples(`q${round}`)));
      busyNow = true;
      await new Promise((x) => setTimeout(x, 1000));
      loaded.push(...(await alarmSamples(`b${round}`)));
      say(`round ${round + 1}: alarm latency p50 alone ${pct(alone, 50)} ms, with ${a.clients} clients ${pct(loaded, 50)} ms (cumulative)`);
    }
    stop = true;
    await Promise.all(clients);
    const quiet = { p50: pct(alone, 50), p95: pct(alone, 95) };
    const busy = { p50: pct(loaded, 50), p95: pct(loaded, 95) };
    const change = Math.round((busy.p50 / quiet.p50 - 1) * 1000) / 10;
    say(`alarm latency alone: p50 ${quiet.p50} ms, p95 ${quiet.p95} ms`);
    say(
      `alarm latency with ${a.clients} open-data clients (${requests} requests, ${errors} failed${firstError ? `: ${firstError}` : ''}): p50 ${busy.p50} ms, p95 ${busy.p95} ms (p50 ${change >= 0 ? '+' : ''}${change} %)`,
    );

    const result = {
      bench: 'opendata',
      store,
      timescale: r.ctx.db.timescale,
      rows: ROWS,
      latestMs: latest,
      page1000Ms: page,
      page1000DeepMs: deep,
      page1000NextLinkMs: keyset,
      yearCsv: csv,
      alarmLatencyMs: { alone: quiet, withClients: busy, p50ChangePct: change, clients: Number(a.clients), openDataRequests: requests, openDataErrors: errors },
      loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10),
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await r.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (dbName) {
      const admin = new pg.Client({ connectionString: a['database-url'] });
      await admin.connect();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    say(`failed: ${e instanceof Error ? `${e.stack}${e.cause ? `\ncause: ${(e.cause as Error).stack ?? e.cause}` : ''}` : e}`);
    process.exit(1);
  },
);
