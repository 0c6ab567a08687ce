import os from 'node:os';
import { parseArgs } from 'node:util';
import { Agent, request, fetch as undiciFetch } from 'undici';
import { type AlarmStage, alarmTrace } from '../services/alarms/alarm-trace.ts';
import type { Running } from '../services/app.ts';
import { aedesSameLoad, child, cpuProfiled, killChildren, latencyUnderLoad, relayRate, say, sleep, startBareAedes } from './harness.ts';
import { alarmPath, benchServer, DEFAULT_DATABASE_URL, insertDevices, uplinkCredential } from './setup.ts';

const { values: a } = parseArgs({
  options: {
    store: { type: 'string', default: 'pg' },
    'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
    devices: { type: 'string', default: '1000' },
    registered: { type: 'string', default: '10000' },
    messages: { type: 'string' },
    window: { type: 'string', default: '8' },
    'ingest-seconds': { type: 'string', default: '25' },
    'background-rate': { type: 'string', default: '2000' },
    samples: { type: 'string', default: '150' },
    'relay-messages': { type: 'string', default: '150000' },
    'log-level': { type: 'string', default: 'info' },
    // a directory: V8 CPU profiles of Regenwacht's process for the ingest burst and the alarm phase alone, and of
    // bare aedes under the same burst (aedes-same-load.cpuprofile)
    'cpu-prof': { type: 'string' },
    // the same load against bare aedes, Mosquitto, a Node-RED flow and Regenwacht on both stores (bench/peers.ts)
    peers: { type: 'boolean', default: false },
  },
});
const store = a.store === 'embedded' || a.store === 'pglite' ? 'embedded' : 'pg';
const N_DEV = Number(a.devices);
const N_REG = Math.max(Number(a.registered), N_DEV);
const N_MSG = Number(a.messages ?? (store === 'pg' ? 300_000 : 120_000));
const SAMPLES = Number(a.samples);
const mb = (b: number) => Math.round(b / 1048576);

// The whole run is bounded: a hung phase ends the process with an error rather than running on (7 min: with
// the same-load aedes phase a default run took ~4 min on a busy day).
const deadline = setTimeout(() => {
  say('exceeded the time limit; giving up');
  process.exit(1);
}, 420_000);
deadline.unref();

/** The bare broker's relay rate, one publisher → one subscriber: a second reference, kept beside the same-load one. */
async function brokerRelay(): Promise<number> {
  const b = await startBareAedes();
  try {
    const r = await relayRate(b.port, Number(a['relay-messages']));
    say(`bare aedes relay: ${r.received} msgs in ${Math.round(r.ms)} ms = ${r.msgsPerS} msgs/s`);
    return r.msgsPerS;
  } finally {
    await b.close();
  }
}

/** The same bare aedes under the same background load (same connections, same rate): publish → subscriber
 *  latency, the floor any broker-based alarm path stands on. */
async function brokerLatency(): Promise<{ p50: number; p99: number }> {
  const b = await startBareAedes();
  try {
    const lat = await latencyUnderLoad(b.port, { devices: N_DEV, rate: Number(a['background-rate']), samples: SAMPLES });
    say(`bare aedes publish → subscriber at ${a['background-rate']} msgs/s background: p50 ${lat.p50} ms, p99 ${lat.p99} ms (${lat.samples} samples)`);
    return lat;
  } finally {
    await b.close();
  }
}

/** The server's environment: PATH, plus INGEST_* and EMBEDDED_* settings given to the bench (e.g. INGEST_MAX_IN_FLIGHT for an A/B). */
function benchEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('INGEST_') || k.startsWith('EMBEDDED_'))) };
}

const profiled = <T>(name: string, fn: () => Promise<T>) => cpuProfiled(a['cpu-prof'], name, fn);

const wall = () => performance.timeOrigin + performance.now();
function pct(xs: number[], p: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const r2 = (x: number) => Math.round(x * 100) / 100;
const p50p99 = (xs: number[]) => ({ p50: r2(pct(xs, 50)), p99: r2(pct(xs, 99)) });

/** Stage timestamps of the probe's devices (alarm-N), taken in this process by the server's hooks. */
function traceAlarms(): Map<string, Partial<Record<AlarmStage, number>>> {
  const at = new Map<string, Partial<Record<AlarmStage, number>>>();
  alarmTrace.on = (stage, key) => {
    const dev = stage === 'received' ? (key.startsWith('devices/alarm-') ? key.slice(8, -3) : undefined) : key.startsWith('alarm-') ? key : undefined;
    if (dev === undefined) return;
    let m = at.get(dev);
    if (!m) at.set(dev, (m = {}));
    m[stage] ??= wall();
  };
  return at;
}

/** publish → webhook, hop by hop: the time between consecutive stages of each sample (ms, p50/p99). */
const HOPS: Array<[string, AlarmStage | 'publish', AlarmStage | 'webhook']> = [
  ['mqtt_in', 'publish', 'received'],
  ['reading_commit', 'received', 'committed'],
  ['evaluate', 'committed', 'evaluated'],
  ['alarm_queue', 'evaluated', 'applying'],
  ['alarm_commit', 'applying', 'stored'],
  ['notify', 'stored', 'sent'],
  ['http', 'sent', 'webhook'],
];
function stageBreakdown(points: Array<{ dev: string; t0: number; t: number }>, at: Map<string, Partial<Record<AlarmStage, number>>>) {
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const [name, from, to] of HOPS) {
    const xs: number[] = [];
    for (const p of points) {
      const m = { ...at.get(p.dev), publish: p.t0, webhook: p.t };
      const a = m[from];
      const b = m[to];
      if (a !== undefined && b !== undefined) xs.push(b - a);
    }
    out[name] = p50p99(xs);
  }
  return out;
}

/** The physical floor of the path on this machine, now, under the same background load: one autocommit
 *  INSERT (a commit, with its fsync) through the server's own database driver, and one loopback HTTP POST
 *  of a webhook-sized body to the probe's receiver over a kept-alive connection (round trip, both ways). */
async function measureFloor(r: Running, hookUrl: string, n = 100) {
  await r.ctx.db.exec('create table if not exists bench_floor(id bigserial primary key, at timestamptz not null, v float8)');
  const ins: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await r.ctx.db.query('insert into bench_floor(at, v) values ($1, $2)', [new Date(), i]);
    ins.push(performance.now() - t0);
    await sleep(5);
  }
  const body = JSON.stringify({ type: 'floor', padding: 'x'.repeat(900) });
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const req: number[] = [];
  const fet: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      const res = await request(hookUrl, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      await res.body.text();
      req.push(performance.now() - t0);
      t0 = performance.now();
      const f = await undiciFetch(hookUrl, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      await f.text();
      fet.push(performance.now() - t0);
      await sleep(5);
    }
  } finally {
    await agent.close();
  }
  return { insert: p50p99(ins), httpRequest: p50p99(req), httpFetch: p50p99(fet) };
}

async function main() {
  say(`store ${store}, ${N_DEV} connections, ${N_REG} registered devices, ${N_MSG} messages, node ${process.version}, ${os.cpus().length} cpus`);

  const s = await benchServer({ label: 'bench', store, adminUrl: a['database-url'], logLevel: a['log-level'] as string, env: benchEnv() });
  const start = s.start;

  let r: Running | undefined;
  let load: ReturnType<typeof child> | undefined;
  try {
    // ---- setup: 10k devices (bulk SQL), one credential, an alarm rule and a webhook route ----
    const probe = child('probe', { username: 'bench', password: '', prefix: 'alarm-' });
    r = await start();
    await insertDevices(r, [
      { prefix: 'bench-', count: N_DEV, tags: { bench: 'load' } },
      { prefix: 'alarm-', count: SAMPLES + 10, tags: { bench: 'alarm' } },
      { prefix: 'idle-', count: Math.max(0, N_REG - N_DEV - SAMPLES - 10), from: N_DEV + SAMPLES + 10 },
    ]);
    const password = await uplinkCredential(s, r, 'bench');
    const hookUrl = await alarmPath(s, r, probe, 'bench');
    await r.stop();
    r = undefined;

    // ---- start to ready, with the registered devices ----
    const t0 = performance.now();
    r = await start();
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${r.httpUrl}/readyz`).catch(() => undefined);
      if (res?.status === 200) break;
      await sleep(10);
    }
    const startToReady = Math.round(performance.now() - t0);
    say(`start to ready: ${startToReady} ms (${r.ctx.devices.size} devices registered)`);
    const mqttPort = Number(new URL(r.mqttUrl!).port);
    const baseRss = process.memoryUsage().rss;

    // ---- 1000 device connections, one shared credential ----
    load = child('load', {
      port: mqttPort,
      username: 'bench',
      password,
      devices: N_DEV,
      prefix: 'bench-',
      baseTime: Date.now() - 12 * 3_600_000,
    });
    const conn = await load.wait('connected', 60_000);
    say(`${N_DEV} connections in ${conn.ms} ms`);
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    const rssConnected = process.memoryUsage().rss;

    // ---- ingest burst ----
    const cpu0 = process.cpuUsage();
    const tIngest = performance.now();
    // --messages 0: no burst (the alarm phase alone, e.g. for an A/B of the alarm path)
    const burst =
      N_MSG > 0
        ? await profiled('ingest', () => {
            load?.proc.send({ cmd: 'burst', messages: N_MSG, window: Number(a.window), maxMs: Number(a['ingest-seconds']) * 1000 });
            return (load as NonNullable<typeof load>).wait('burst', Number(a['ingest-seconds']) * 1000 + 30_000);
          })
        : { acked: 0, sent: 0, ms: 1, msgsPerS: 0, unacked: 0, closed: 0 };
    const cpu1 = process.cpuUsage(cpu0);
    const ingestCpu = (cpu1.user + cpu1.system) / 1e6;
    say(
      `ingest: ${burst.acked} acked of ${burst.sent} sent in ${Math.round(burst.ms)} ms = ${burst.msgsPerS} msgs/s; cpu ${ingestCpu.toFixed(1)} s; unacked ${burst.unacked}, closed ${burst.closed}`,
    );
    void tIngest;
    for (let i = 0; i < 500 && (r.ingest as unknown as { writer: { pending: number } }).writer?.pending; i++) await sleep(20);
    const rows = Number((await r.ctx.db.query<{ n: number }>(`select count(*)::int as n from readings where device_id like 'bench-%'`)).rows[0].n);
    const lost = Math.max(0, burst.acked - rows);
    say(`stored rows ${rows}, acknowledged ${burst.acked}, lost ${lost}`);

    // ---- alarm latency under background load ----
    // The burst leaves a checkpoint and autovacuum due; let them pass so this phase measures the steady state.
    await r.ctx.db.exec('checkpoint');
    await sleep(1000);
    const rate = Number(a['background-rate']);
    load.proc.send({ cmd: 'rate', rate, maxMs: 60_000 });
    await sleep(1500);
    const cpuA = process.cpuUsage();
    const stageAt = traceAlarms();
    const lat = await profiled('alarm', () => {
      probe.proc.send({ cmd: 'run', mqttPort, password, samples: SAMPLES, maxMs: 40_000 });
      return probe.wait('probe', 60_000);
    });
    const cpuB = process.cpuUsage(cpuA);
    alarmTrace.on = undefined;
    const stages = stageBreakdown(lat.points, stageAt);
    say(
      `alarm path by stage (p50/p99 ms): ${Object.entries(stages)
        .map(([k, v]) => `${k} ${v.p50}/${v.p99}`)
        .join(', ')}`,
    );
    const floor = await measureFloor(r, hookUrl);
    say(
      `floor at the same load: autocommit insert p50 ${floor.insert.p50} ms (p99 ${floor.insert.p99}), loopback POST keep-alive p50 ${floor.httpRequest.p50} ms (undici fetch ${floor.httpFetch.p50} ms)`,
    );
    load.proc.send({ cmd: 'endrate' });
    const bg = await load.wait('rate', 10_000);
    say(
      `alarm latency over ${lat.samples} samples (${lat.timeouts} timeouts): p50 ${lat.p50} ms, p90 ${lat.p90} ms, p99 ${lat.p99} ms, max ${lat.max} ms; background ${bg.msgsPerS} msgs/s (PUBACK p50 ${bg.pubackP50} ms, p99 ${bg.pubackP99} ms)`,
    );
    clearInterval(rssTimer);
    load.proc.send({ cmd: 'stop' });
    await load.wait('stopped', 10_000).catch(() => undefined);

    const result = {
      ingest_msgs_per_s: burst.msgsPerS,
      alarm_latency_ms_p50: lat.p50,
      alarm_latency_ms_p99: lat.p99,
      rss_mb: mb(peakRss),
      lost,
      // issue 17's ingest peer: bare aedes, the same load generator, connections and burst, in this run
      aedes_same_load_msgs_per_s: 0,
      ratio_to_aedes_same_load: 0,
      aedes_same_load_cpu_per_msg_us: 0,
      // a second reference: bare aedes relaying one publisher → one subscriber (1 000 in flight)
      aedes_relay_1to1_msgs_per_s: 0,
      ratio_to_aedes_relay_1to1: 0,
      broker_latency_ms_p50: 0,
      broker_latency_ms_p99: 0,
      alarm_latency_ratio_p50: 0,
      alarm_latency_ratio_p99: 0,
      store: store === 'pg' ? 'postgresql' : 'embedded',
      devices: N_DEV,
      registered_devices: r.ctx.devices.size,
      messages: burst.acked,
      stored_rows: rows,
      cpu_s: Math.round(ingestCpu * 10) / 10,
      cpu_per_msg_us: Math.round((ingestCpu / Math.max(1, burst.acked)) * 1e7) / 10,
      start_to_ready_ms: startToReady,
      connect_ms: conn.ms,
      rss_mb_connected: mb(rssConnected),
      rss_mb_ready: mb(baseRss),
      alarm_samples: lat.samples,
      alarm_timeouts: lat.timeouts,
      alarm_latency_ms_p90: lat.p90,
      background_msgs_per_s: bg.msgsPerS,
      background_puback_ms_p50: bg.pubackP50,
      background_puback_ms_p99: bg.pubackP99,
      alarm_phase_cpu_s: Math.round(((cpuB.user + cpuB.system) / 1e6) * 10) / 10,
      // publish → webhook hop by hop (bench/bench.ts HOPS), and the floor measured right after at the same load
      alarm_stages_ms: stages,
      floor_insert_ms_p50: floor.insert.p50,
      floor_insert_ms_p99: floor.insert.p99,
      floor_http_post_ms_p50: floor.httpRequest.p50,
      floor_http_post_ms_p99: floor.httpRequest.p99,
      floor_http_fetch_ms_p50: floor.httpFetch.p50,
      load_avg_1m: Math.round(os.loadavg()[0] * 100) / 100,
      node: process.version,
      cpus: os.cpus().length,
    };
    await r.stop();
    r = undefined;
    // the bare broker last, so its garbage never counts in Regenwacht's RSS
    // (skipped with --messages 0, e.g. a run for the alarm path alone)
    if (N_MSG > 0) {
      const same = await profiled('aedes-same-load', () =>
        aedesSameLoad({ devices: N_DEV, messages: N_MSG, window: Number(a.window), maxMs: Number(a['ingest-seconds']) * 1000 }),
      );
      say(`bare aedes, same ${N_DEV} connections and burst: ${same.acked} acked = ${same.msgsPerS} msgs/s; cpu ${same.cpuPerMsgUs} us/msg`);
      result.aedes_same_load_msgs_per_s = same.msgsPerS;
      result.ratio_to_aedes_same_load = Math.round((burst.msgsPerS / same.msgsPerS) * 100) / 100;
      result.aedes_same_load_cpu_per_msg_us = same.cpuPerMsgUs;
    }
    // --relay-messages 0: no relay rate (the alarm phase alone)
    const relayMsgs = Number(a['relay-messages']) > 0 ? await brokerRelay() : 0;
    result.aedes_relay_1to1_msgs_per_s = relayMsgs;
    result.ratio_to_aedes_relay_1to1 = relayMsgs ? Math.round((burst.msgsPerS / relayMsgs) * 100) / 100 : 0;
    const bl = await brokerLatency();
    result.broker_latency_ms_p50 = bl.p50;
    result.broker_latency_ms_p99 = bl.p99;
    result.alarm_latency_ratio_p50 = Math.round((lat.p50 / bl.p50) * 100) / 100;
    result.alarm_latency_ratio_p99 = Math.round((lat.p99 / bl.p99) * 100) / 100;
    say('done');
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (lost > 0) process.exitCode = 3; // the one failure the bench reports by its exit code
  } finally {
    if (r) await r.stop().catch(() => {});
    killChildren();
    await s.cleanup();
  }
}

(a.peers ? import('./peers.ts').then((m) => m.runPeers(a)) : main()).then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    say(`failed: ${(e as Error).stack}`);
    process.exit(1);
  },
);
