// npm run bench:soak [-- --minutes 30 --store embedded --rate 2000 --storm-every 5 --storm-stations 200] — a
// bounded soak of one real Regenwacht (in this process), on the embedded store (TimescaleDB; the default) or
// PostgreSQL: a steady background of readings from 1 000 device connections, the alarm path probed every
// minute, a storm (many stations crossing their threshold at once, then falling back) every few minutes, and
// the maintenance jobs running throughout: READINGS_RETENTION_DAYS is set, the readings compression and
// retention policies run every --job-every minutes (the embedded store's scheduler runs a policy when its
// schedule_interval has passed; on PostgreSQL the batched delete runs on its own 10-minute schedule), and old
// readings preloaded and added again every --job-every minutes (late data, days old) give them work. Per minute
// it records RSS, heap, event-loop lag, CPU, the load average and the alarm latency, and every job run (time,
// duration, chunks compressed or dropped, rows) into a JSON file with a verdict against the issue's criterion
// (bench/soak-verdict.ts), and draws them as a PNG (docs/soak.png by default) through chromium.
// Progress goes to stderr; the last stdout line is the summary as one JSON object. See docs/benchmarks.md.
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Running } from '../services/app.ts';
import { child, killChildren, say, sleep } from './harness.ts';
import { alarmPath, benchServer, DEFAULT_DATABASE_URL, insertDevices, uplinkCredential } from './setup.ts';
import { renderSoakPng } from './soak-plot.ts';
import { soakVerdict, type VerdictJobRun, verdictLines } from './soak-verdict.ts';

const { values: a } = parseArgs({
  options: {
    'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
    store: { type: 'string', default: 'embedded' },
    'retention-days': { type: 'string', default: '30' },
    'job-every': { type: 'string', default: '3' },
    'old-series': { type: 'string', default: '200' },
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '2000' },
    devices: { type: 'string', default: '1000' },
    'storm-every': { type: 'string', default: '5' },
    'storm-stations': { type: 'string', default: '200' },
    'samples-per-minute': { type: 'string', default: '20' },
    'warm-up-minutes': { type: 'string', default: '3' },
    out: { type: 'string', default: 'docs/soak.json' },
    png: { type: 'string', default: 'docs/soak.png' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const MINUTES = Number(a.minutes);
const RATE = Number(a.rate);
const N_DEV = Number(a.devices);
const STORM_EVERY = Number(a['storm-every']);
const STORM_N = Number(a['storm-stations']);
const PER_MIN = Number(a['samples-per-minute']);
const WARM = Number(a['warm-up-minutes']);
const STORE = a.store as 'pg' | 'embedded';
if (STORE !== 'pg' && STORE !== 'embedded') throw new Error('--store is pg or embedded');
const RETENTION_DAYS = Number(a['retention-days']);
const JOB_EVERY = Number(a['job-every']);
const OLD_SERIES = Number(a['old-series']);
const mb = (b: number) => Math.round(b / 1048576);
const r1 = (x: number) => Math.round(x * 10) / 10;

// bounded: the whole run gives up 10 minutes after its planned end
const deadline = setTimeout(
  () => {
    say('exceeded the time limit; giving up');
    process.exit(1);
  },
  (MINUTES + 10) * 60_000,
);
deadline.unref();

export interface SoakMinute {
  minute: number;
  rss_mb_max: number;
  heap_mb: number;
  lag_ms_p99: number;
  lag_ms_max: number;
  cpu_s: number;
  alarm_ms_p50: number;
  alarm_ms_p99: number;
  alarm_timeouts: number;
  /** readings newly stored per second during the minute */
  stored_per_s: number;
  storm?: { stations: number; p50: number; p99: number; max: number; timeouts: number };
  /** os.loadavg() at the end of the minute: the whole machine, other jobs included */
  loadavg: number[];
  /** maintenance job runs that ended in this minute */
  job_runs: number;
}

export interface JobRun extends VerdictJobRun {
  /** the job as the maintenance metric names it, e.g. policy_compression:readings, readings_retention */
  job: string;
  at: string;
  /** minutes since the soak's start, when the run ended */
  t_min: number;
  ms: number;
}

const jobKind = (job: string): JobRun['kind'] =>
  job === 'policy_compression:readings' ? 'compression' : job === 'policy_retention:readings' || job === 'readings_retention' ? 'retention' : 'other';

/**
 * Old readings for the maintenance jobs to work on: `series` series of level_cm over each of the whole UTC days
 * `days` ago, every `stepMin` minutes from minute `offsetMin` of the day on (readings chunks are a week long).
 */
async function insertOldDays(r: Running, days: number[], o: { series: number; stepMin: number; offsetMin: number }): Promise<number> {
  const perDay = Math.floor((1440 - o.offsetMin) / o.stepMin);
  for (const d of days)
    await r.ctx.db.query(
      `insert into readings(time, device_id, metric, value)
       select (date_trunc('day', now() at time zone 'UTC') at time zone 'UTC') - make_interval(days => $1::int) + make_interval(mins => $5::int + i * $3::int),
              'old-' || s, 'level_cm', 20 + (i % 7)
       from generate_series(0, $2::int - 1) s, generate_series(0, $4::int - 1) i`,
      [d, o.series, o.stepMin, perDay, o.offsetMin],
    );
  return days.length * o.series * perDay;
}

interface Chunk {
  name: string;
  compressed: boolean;
  /** rows in the chunk's own (uncompressed) table: what compression has still to do */
  pending: number;
  /** all rows, counted only for chunks past the retention (what dropping them removes) */
  rows?: number;
}
/** The readings chunks old enough for the compression policy (ending over 7 days ago), with their row counts. */
async function oldChunks(r: Running, retentionDays: number): Promise<Map<string, Chunk>> {
  const q = await r.ctx.db.query<{ chunk_schema: string; chunk_name: string; range_start: Date; range_end: Date; is_compressed: boolean }>(
    `select chunk_schema, chunk_name, range_start, range_end, is_compressed from timescaledb_information.chunks
     where hypertable_name = 'readings' and range_end < now() - interval '7 days'`,
  );
  const out = new Map<string, Chunk>();
  for (const c of q.rows) {
    const own = `"${c.chunk_schema.replace(/"/g, '""')}"."${c.chunk_name.replace(/"/g, '""')}"`;
    const pending = Number((await r.ctx.db.query<{ n: number }>(`select count(*)::int as n from only ${own}`)).rows[0].n);
    const pastRetention = new Date(c.range_end).getTime() < Date.now() - retentionDays * 86_400_000;
    const rows = pastRetention
      ? Number(
          (await r.ctx.db.query<{ n: number }>(`select count(*)::int as n from readings where time >= $1 and time < $2`, [c.range_start, c.range_end])).rows[0]
            .n,
        )
      : undefined;
    out.set(c.chunk_name, { name: c.chunk_name, compressed: c.is_compressed, pending, rows });
  }
  return out;
}

const storedSoFar = async (r: Running) => (await r.ctx.metrics.readings.get()).values.reduce((n, v) => n + v.value, 0);

async function main() {
  const storms = Math.floor(MINUTES / STORM_EVERY);
  const alarmDevices = MINUTES * PER_MIN + storms * STORM_N + 20;
  say(`soak: ${MINUTES} min at ${RATE} msgs/s from ${N_DEV} connections, storm of ${STORM_N} stations every ${STORM_EVERY} min`);
  say(
    `store ${STORE}; READINGS_RETENTION_DAYS=${RETENTION_DAYS}; ${STORE === 'embedded' ? `compression and retention policies every ${JOB_EVERY} min` : 'batched retention delete every 10 min'}`,
  );
  const s = await benchServer({
    label: 'soak',
    store: STORE,
    adminUrl: a['database-url'],
    logLevel: a['log-level'] as string,
    env: { PATH: process.env.PATH, READINGS_RETENTION_DAYS: String(RETENTION_DAYS) },
  });
  let r: Running | undefined;
  try {
    r = await s.start();
    await insertDevices(r, [
      { prefix: 'soak-', count: N_DEV, tags: { bench: 'load' } },
      { prefix: 'alarm-', count: alarmDevices, tags: { bench: 'alarm' } },
    ]);
    const password = await uplinkCredential(s, r, 'soak');
    const probe = child('probe', { username: 'soak', password, prefix: 'alarm-' });
    await alarmPath(s, r, probe, 'soak');
    // the readings policies every JOB_EVERY minutes instead of every half day (compression) and every day
    // (retention); the embedded store's scheduler reads schedule_interval on each pass
    if (r.ctx.db.timescale)
      await r.ctx.db.query(
        `select alter_job(job_id, schedule_interval => make_interval(mins => $1::int)) from timescaledb_information.jobs
         where hypertable_name = 'readings' and proc_name in ('policy_compression', 'policy_retention')`,
        [JOB_EVERY],
      );
    // old readings in 10-minute steps: days 14–18 ago (in chunks that ended over 7 days ago, which the
    // compression policy compresses) and days 8–12 past the retention (in chunks the retention policy drops)
    const R8 = RETENTION_DAYS + 8;
    const preloaded = await insertOldDays(r, [14, 15, 16, 17, 18, R8, R8 + 1, R8 + 2, R8 + 3, R8 + 4], { series: OLD_SERIES, stepMin: 10, offsetMin: 0 });
    say(`preloaded ${preloaded} old readings over 10 days`);
    // the rollups take the preloaded days in now (the hourly one re-reads all history it has not seen, ten
    // seconds and more here), not in the soak's first pass, where it would stall the start of the probes
    if (r.ctx.db.kind === 'pglite' && r.ctx.db.timescale) {
      const caggs = await r.ctx.db.query<{ job_id: number }>(
        `select job_id from timescaledb_information.jobs where proc_name = 'policy_refresh_continuous_aggregate' order by job_id`,
      );
      for (const j of caggs.rows) await r.ctx.db.exec(`call run_job(${Number(j.job_id)})`);
    }
    // restart so the devices inserted in bulk are loaded like on any start
    await r.stop();
    r = await s.start();
    const mqttPort = Number(new URL(r.mqttUrl as string).port);
    const load = child('load', {
      port: mqttPort,
      username: 'soak',
      password,
      devices: N_DEV,
      prefix: 'soak-',
      baseTime: Date.now() - 3_600_000,
    });
    await load.wait('connected', 120_000);
    load.proc.send({ cmd: 'rate', rate: RATE, maxMs: (MINUTES + 2) * 60_000 });

    const minutes: SoakMinute[] = [];
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    let rssMax = 0;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 1000);
    let nextDevice = 0;
    const t0 = Date.now();

    // Maintenance job runs, seen through the regenwacht_maintenance_job_seconds histogram (one observation per
    // run) polled every second; on TimescaleDB a look at the readings chunks after each compression or
    // retention run tells what it did (a chunk turned compressed, a chunk gone), the rows from what this bench
    // put into that day; on PostgreSQL the expired-readings counter tells the rows deleted.
    const runs: JobRun[] = [];
    let lastCounts = new Map<string, { n: number; sum: number }>();
    let lastExpired = 0;
    const snapshot = async () => (rr.ctx.db.timescale ? await oldChunks(rr, RETENTION_DAYS) : new Map<string, Chunk>());
    let serial: Promise<unknown> = Promise.resolve();
    const inTurn = <T>(f: () => Promise<T>) => {
      const p = serial.then(f);
      serial = p.catch(() => undefined);
      return p;
    };
    const rr = r;
    let chunks = await snapshot();
    const counts = async () => {
      const m = new Map<string, { n: number; sum: number }>();
      for (const v of (await rr.ctx.metrics.maintenanceSeconds.get()).values) {
        const job = String(v.labels.job);
        const e = m.get(job) ?? { n: 0, sum: 0 };
        if (v.metricName?.endsWith('_count')) e.n = v.value;
        else if (v.metricName?.endsWith('_sum')) e.sum = v.value;
        else continue;
        m.set(job, e);
      }
      return m;
    };
    const expired = async () => (await rr.ctx.metrics.readingsExpired.get()).values.reduce((n, v) => n + v.value, 0);
    lastCounts = await counts();
    lastExpired = await expired();
    let polling = false;
    const detectRuns = async () => {
      const now = await counts();
      const fresh: JobRun[] = [];
      for (const [job, c] of now) {
        const was = lastCounts.get(job) ?? { n: 0, sum: 0 };
        const dn = c.n - was.n;
        for (let k = 0; k < dn; k++)
          fresh.push({
            job,
            kind: jobKind(job),
            at: new Date().toISOString(),
            t_min: Math.round((Date.now() - t0) / 600) / 100,
            ms: Math.round(((c.sum - was.sum) / dn) * 1000),
          });
      }
      lastCounts = now;
      if (!fresh.length) return;
      const comp = fresh.filter((f) => f.kind === 'compression').pop();
      const ret = fresh.filter((f) => f.kind === 'retention').pop();
      if (rr.ctx.db.timescale && (comp || ret)) {
        // what changed since the last look: chunks gone were dropped by retention (with all their rows), rows
        // that left a chunk's own table were compressed (a chunk compressed and dropped within one pass counts
        // for retention only)
        const next = await snapshot();
        const dropped = [...chunks.values()].filter((c) => !next.has(c.name));
        let compressedChunks = 0;
        let compressedRows = 0;
        for (const c of next.values()) {
          const before = chunks.get(c.name)?.pending ?? 0;
          if (before > c.pending) {
            compressedChunks++;
            compressedRows += before - c.pending;
          }
        }
        if (comp) Object.assign(comp, { chunks: compressedChunks, rows: compressedRows });
        if (ret) Object.assign(ret, { chunks: dropped.length, rows: dropped.reduce((n, c) => n + (c.rows ?? 0), 0) });
        chunks = next;
      } else if (ret) {
        const e = await expired();
        Object.assign(ret, { rows: e - lastExpired });
        lastExpired = e;
      }
      for (const f of fresh) {
        runs.push(f);
        say(
          `job ${f.job} ran at minute ${f.t_min}: ${f.ms} ms${f.chunks !== undefined ? `, ${f.chunks} chunks` : ''}${f.rows !== undefined ? `, ${f.rows} rows` : ''}`,
        );
      }
    };
    const pollJobs = () => inTurn(detectRuns);
    // one poll at a time: while the store is busy with a job the polls do not pile up
    const jobTimer = setInterval(() => {
      if (polling) return;
      polling = true;
      pollJobs()
        .catch((e) => say(`job poll failed: ${(e as Error).message}`))
        .finally(() => (polling = false));
    }, 1000);
    // late data every JOB_EVERY minutes (a device that had been offline sends its buffer): a day 14–27 days ago
    // into a chunk compression has already done, and a day in a new week past the retention; hourly steps,
    // a different minute of the hour each time so no reading repeats
    let late = 0;
    const addLate = () =>
      inTurn(async () => {
        await detectRuns();
        late++;
        await insertOldDays(rr, [14 + ((3 * late) % 14), R8 + 7 * late], { series: OLD_SERIES, stepMin: 60, offsetMin: 1 + (late % 9) });
        chunks = await snapshot();
      });
    for (let m = 1; m <= MINUTES; m++) {
      const minuteStart = Date.now();
      if (m > 1 && (m - 1) % JOB_EVERY === 0) await addLate();
      const cpu0 = process.cpuUsage();
      const stored0 = await storedSoFar(r);
      lag.reset();
      rssMax = process.memoryUsage().rss;
      probe.proc.send({ cmd: 'run', mqttPort, password, samples: PER_MIN, first: nextDevice, maxMs: 40_000 });
      nextDevice += PER_MIN;
      const lat = await probe.wait('probe', 60_000);
      let storm: SoakMinute['storm'];
      if (m % STORM_EVERY === 0) {
        await sleep(5_000);
        probe.proc.send({ cmd: 'storm', samples: STORM_N, first: nextDevice });
        nextDevice += STORM_N;
        const s = await probe.wait('storm', 60_000);
        storm = { stations: STORM_N, p50: s.p50, p99: s.p99, max: s.max, timeouts: s.timeouts };
      }
      const until = t0 + m * 60_000;
      if (Date.now() < until) await sleep(until - Date.now());
      const cpu = process.cpuUsage(cpu0);
      const row: SoakMinute = {
        minute: m,
        rss_mb_max: mb(rssMax),
        heap_mb: mb(process.memoryUsage().heapUsed),
        lag_ms_p99: r1(lag.percentile(99) / 1e6),
        lag_ms_max: r1(lag.max / 1e6),
        cpu_s: r1((cpu.user + cpu.system) / 1e6),
        alarm_ms_p50: lat.p50,
        alarm_ms_p99: lat.p99,
        alarm_timeouts: lat.timeouts,
        stored_per_s: Math.round(((await storedSoFar(r)) - stored0) / ((Date.now() - minuteStart) / 1000)),
        ...(storm ? { storm } : {}),
        loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
        job_runs: runs.filter((j) => j.t_min > m - 1 && j.t_min <= m).length,
      };
      minutes.push(row);
      say(`minute ${m} (${Math.round((Date.now() - minuteStart) / 1000)} s): ${JSON.stringify(row)}`);
    }
    clearInterval(rssTimer);
    clearInterval(jobTimer);
    await pollJobs();
    lag.disable();
    load.proc.send({ cmd: 'endrate' });
    const bg = await load.wait('rate', 30_000);
    const stored = Number((await r.ctx.db.query<{ n: number }>(`select count(*)::int as n from readings where device_id like 'soak-%'`)).rows[0].n);
    const after = minutes.filter((x) => x.minute > WARM);
    const max = (f: (x: SoakMinute) => number) => Math.max(...after.map(f));
    const min = (f: (x: SoakMinute) => number) => Math.min(...after.map(f));
    const summary = {
      minutes: MINUTES,
      rate: RATE,
      background_msgs_per_s: bg.msgsPerS,
      background_puback_ms_p99: bg.pubackP99,
      background_skipped: bg.skipped,
      acked: bg.acked,
      stored_rows: stored,
      lost: Math.max(0, bg.acked - stored),
      warm_up_minutes: WARM,
      rss_mb_after_warm_up: { min: min((x) => x.rss_mb_max), max: max((x) => x.rss_mb_max) },
      rss_growth_after_warm_up_pct: r1((100 * (after[after.length - 1].rss_mb_max - after[0].rss_mb_max)) / after[0].rss_mb_max),
      lag_ms_p99_after_warm_up: { min: min((x) => x.lag_ms_p99), max: max((x) => x.lag_ms_p99) },
      alarm_ms_p99_per_minute: { min: min((x) => x.alarm_ms_p99), max: max((x) => x.alarm_ms_p99) },
      storms: minutes.filter((x) => x.storm).map((x) => ({ minute: x.minute, ...x.storm })),
      store: STORE,
      readings_retention_days: RETENTION_DAYS,
      job_every_minutes: STORE === 'embedded' ? JOB_EVERY : 10,
      job_runs: Object.fromEntries([...new Set(runs.map((j) => j.job))].map((j) => [j, runs.filter((x) => x.job === j).length])),
      loadavg_per_minute_1m: { min: Math.min(...minutes.map((x) => x.loadavg[0])), max: Math.max(...minutes.map((x) => x.loadavg[0])) },
      node: process.version,
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model,
      mem_gb: Math.round(os.totalmem() / 2 ** 30),
      loadavg: os.loadavg().map(r1),
    };
    const verdict = soakVerdict(minutes, runs, { warmUpMinutes: WARM, lost: summary.lost, store: STORE });
    for (const l of verdictLines(verdict)) say(l);
    const doc = {
      command: `npm run bench:soak -- --minutes ${MINUTES} --store ${STORE}`,
      at: new Date().toISOString(),
      summary,
      verdict,
      job_runs: runs,
      per_minute: minutes,
    };
    fs.writeFileSync(a.out as string, `${JSON.stringify(doc, null, 1)}\n`);
    say(`wrote ${a.out}`);
    await renderSoakPng(doc, a.png as string).then(
      () => say(`drew ${a.png}`),
      (e) => say(`could not draw ${a.png}: ${(e as Error).message}`),
    );
    load.proc.send({ cmd: 'stop' });
    probe.proc.send({ cmd: 'stop' });
    process.stdout.write(`${JSON.stringify({ ...summary, verdict })}\n`);
    if (summary.lost > 0) process.exitCode = 3;
  } finally {
    if (r) await r.stop().catch(() => {});
    killChildren();
    await s.cleanup();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    say(`failed: ${(e as Error).stack}`);
    process.exit(1);
  },
);
