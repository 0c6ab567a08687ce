// npm run bench:soak [-- --minutes 30 --rate 2000 --storm-every 5 --storm-stations 200] — a bounded soak of one
// real Regenwacht (in this process) on PostgreSQL: a steady background of readings from 1 000 device
// connections, the alarm path probed every minute, and a storm (many stations crossing their threshold at
// once, then falling back) every few minutes. Per minute it records RSS, heap, event-loop lag, CPU and the
// alarm latency into a JSON file, and draws them as a PNG (docs/soak.png by default) through chromium.
// Progress goes to stderr; the last stdout line is the summary as one JSON object. See docs/benchmarks.md.
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Running } from '../services/app.ts';
import { child, killChildren, say, sleep } from './harness.ts';
import { alarmPath, benchServer, DEFAULT_DATABASE_URL, insertDevices, uplinkCredential } from './setup.ts';
import { renderSoakPng } from './soak-plot.ts';

const { values: a } = parseArgs({
  options: {
    'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
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
}

const storedSoFar = async (r: Running) => (await r.ctx.metrics.readings.get()).values.reduce((n, v) => n + v.value, 0);

async function main() {
  const storms = Math.floor(MINUTES / STORM_EVERY);
  const alarmDevices = MINUTES * PER_MIN + storms * STORM_N + 20;
  say(`soak: ${MINUTES} min at ${RATE} msgs/s from ${N_DEV} connections, storm of ${STORM_N} stations every ${STORM_EVERY} min`);
  const s = await benchServer({ label: 'soak', store: 'pg', adminUrl: a['database-url'], logLevel: a['log-level'] as string });
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
    for (let m = 1; m <= MINUTES; m++) {
      const minuteStart = Date.now();
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
      };
      minutes.push(row);
      say(`minute ${m} (${Math.round((Date.now() - minuteStart) / 1000)} s): ${JSON.stringify(row)}`);
    }
    clearInterval(rssTimer);
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
      node: process.version,
      cpus: os.cpus().length,
      loadavg: os.loadavg().map(r1),
    };
    const doc = { command: `npm run bench:soak -- --minutes ${MINUTES}`, at: new Date().toISOString(), summary, per_minute: minutes };
    fs.writeFileSync(a.out as string, `${JSON.stringify(doc, null, 1)}\n`);
    say(`wrote ${a.out}`);
    await renderSoakPng(doc, a.png as string).then(
      () => say(`drew ${a.png}`),
      (e) => say(`could not draw ${a.png}: ${(e as Error).message}`),
    );
    load.proc.send({ cmd: 'stop' });
    probe.proc.send({ cmd: 'stop' });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
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
