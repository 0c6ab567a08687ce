// npm run bench:rollup-refresh [-- --rate 2000 --devices 1000 --minutes 6] — what one run of the readings_5m
// refresh costs on the embedded store (PGlite + TimescaleDB on the main thread), and how long it holds the event
// loop: the readings of the last --minutes at --rate per second (one reading per message, like the soak) after
// a refresh that ended --minutes ago, then the embedded scheduler's job run (TimescaleJobs.runDue) timed, with
// the longest gap a 5 ms timer saw meanwhile. Progress goes to stderr; the last stdout line is one JSON object.
// See docs/benchmarks.md ("Soak, sixth session").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { migrate } from '../services/db/migrate.ts';
import { createPgliteDb } from '../services/db/pglite-driver.ts';
import { usableTemplate } from '../services/db/pglite-template.ts';
import { TimescaleJobs } from '../services/scheduler/timescale-jobs.ts';
import { say } from './harness.ts';

const { values: a } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    devices: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '6' },
    // the soak's devices send times that run behind (from an hour ago, 2 s per second): below the rollup's
    // watermark, so every ingest transaction (--tx-rows readings) is logged as an invalidation
    'behind-minutes': { type: 'string', default: '0' },
    'tx-rows': { type: 'string', default: '100000' },
  },
});
const RATE = Number(a.rate);
const N_DEV = Number(a.devices);
const MIN = Number(a.minutes);
const BEHIND = Number(a['behind-minutes']);
const TX = Number(a['tx-rows']);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-rollup-bench-'));
try {
  const db = await createPgliteDb(dir, { template: usableTemplate() });
  await migrate(db);
  // readings for the last MIN + 10 minutes (BEHIND minutes earlier); the part the previous run (MIN minutes
  // ago, ending 5 minutes before its start) took in is materialised first, untimed; with --behind-minutes the
  // last MIN minutes' readings are written after that refresh, in transactions of --tx-rows
  const rows = RATE * 60 * (MIN + 10);
  const late = BEHIND > 0 ? RATE * 60 * MIN : 0;
  say(`inserting ${rows} readings over ${MIN + 10} minutes ending ${BEHIND} minutes ago`);
  const insert = (from: number, n: number) =>
    db.query(
      `insert into readings(time, device_id, metric, value)
       select now() - make_interval(mins => $5::int) - make_interval(secs => ($1::int + i)::float8 / $2::int), 'soak-' || ((($1::int + i)) % $3::int), 'rain_mm', 0.1
       from generate_series(0, $4::int - 1) i`,
      [from, RATE, N_DEV, n, BEHIND],
    );
  for (let done = late; done < rows; done += 100_000) await insert(done, Math.min(100_000, rows - done));
  await db.exec(`call refresh_continuous_aggregate('readings_5m', now() - interval '1 day', now() - make_interval(mins => ${MIN + 5}))`);
  for (let done = 0; done < late; done += TX) await insert(done, Math.min(TX, late - done));
  const before = await db.query<{ n: number }>(`select coalesce(sum(n), 0)::int as n from readings_5m`);
  // only the 5-minute rollup is due: the others ran just now
  const other = await db.query<{ job_id: number }>(
    `select job_id from timescaledb_information.jobs where job_id >= 1000 and not (proc_name = 'policy_refresh_continuous_aggregate' and hypertable_name = 'readings_5m')`,
  );
  let clock = Date.now();
  const jobs = new TimescaleJobs(db, pino({ level: 'debug' }, pino.destination(2)), () => clock);
  for (const j of other.rows) jobs.markRan(j.job_id, clock);
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - last);
    last = t;
  }, 5);
  const t0 = performance.now();
  const ran = await jobs.runDue();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(timer);
  clock += 1;
  const n = await db.query<{ n: number }>(`select coalesce(sum(n), 0)::int as n from readings_5m`);
  const out = {
    rate: RATE,
    devices: N_DEV,
    minutes: MIN,
    behind_minutes: BEHIND,
    tx_rows: TX,
    ran,
    refresh_ms: Math.round(ms),
    max_event_loop_gap_ms: Math.round(maxGap),
    readings_taken_in: n.rows[0].n - before.rows[0].n,
    loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10),
  };
  say(JSON.stringify(out));
  console.log(JSON.stringify(out));
  await db.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
