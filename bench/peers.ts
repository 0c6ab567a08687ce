// npm run bench -- --peers: the same load generator and the same 1 000 device connections against (a) bare
// aedes, (b) a bare Mosquitto (the machine's binary, on a free port), (c) a Node-RED flow as a municipality
// would build it (mqtt in → function with one PostgreSQL insert per message → http request on a threshold,
// behind that Mosquitto), (d) Regenwacht on PostgreSQL and (e) Regenwacht embedded — one run, one machine,
// figures as ratios to bare aedes. Progress on stderr; the last stdout line is one JSON object.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { child, killChildren, type LoadChild, latencyUnderLoad, relayRate, say, sleep, startBareAedes } from './harness.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_RED_DIR = path.join(HERE, 'peers', 'node-red');
const CLK_TCK = 100;

type Args = Record<string, string | boolean | undefined>;

interface PeerResult {
  /** PUBACKs (or stored rows, where acknowledged does not mean stored) per second */
  msgs_per_s: number;
  acknowledged_means_stored: boolean;
  lost: number;
  latency_ms_p50: number | null;
  latency_ms_p99: number | null;
  /** what the latency is: broker publish → subscriber, or publish → webhook of an alarm */
  latency_of: string;
  /** samples that got no answer within 3 s (a peer that falls behind the background rate) */
  latency_timeouts: number;
  cpu_per_msg_us: number | null;
  rss_mb: number | null;
  note?: string;
}

const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });

/** CPU seconds and peak RSS of another process, from /proc */
function procStats(pid: number): { cpuS: number; peakMB: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, peakMB: hwm ? Math.round(Number(hwm[1]) / 1024) : 0 };
}

async function startMosquitto(): Promise<{ port: number; proc: ChildProcess; close: () => Promise<void> }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-peers-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  // as installed, anonymous, no persistence; a deep queue so a slow subscriber is not a silent drop
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nlog_dest none\n`);
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    await sleep(50);
  }
  return {
    port,
    proc,
    close: async () => {
      proc.kill();
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function connectLoad(port: number, devices: number): Promise<LoadChild> {
  const load = child('load', { port, username: 'bench', password: 'x', devices, prefix: 'bench-', baseTime: Date.now() - 12 * 3_600_000 });
  await load.wait('connected', 60_000);
  return load;
}

async function burst(load: LoadChild, messages: number, seconds: number) {
  load.proc.send({ cmd: 'burst', messages, window: 8, maxMs: seconds * 1000 });
  return load.wait('burst', seconds * 1000 + 30_000);
}

async function stopLoad(load: LoadChild) {
  load.proc.send({ cmd: 'stop' });
  await load.wait('stopped', 10_000).catch(() => undefined);
}

/** (a) bare aedes in this process: PUBACK rate for the 1 000 connections, publish → subscriber latency */
async function bareAedes(o: Opts): Promise<PeerResult> {
  const b = await startBareAedes();
  try {
    const load = await connectLoad(b.port, o.devices);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
    const c0 = process.cpuUsage();
    const r = await burst(load, o.messages, o.seconds);
    const c = process.cpuUsage(c0);
    clearInterval(t);
    await stopLoad(load);
    const lat = await latencyUnderLoad(b.port, { devices: o.devices, rate: o.rate, samples: o.samples });
    say(`aedes: ${r.msgsPerS} msgs/s; publish → subscriber p50 ${lat.p50} ms, p99 ${lat.p99} ms`);
    return {
      msgs_per_s: r.msgsPerS,
      acknowledged_means_stored: false,
      lost: 0,
      latency_ms_p50: lat.p50,
      latency_ms_p99: lat.p99,
      latency_of: 'publish → subscriber',
      latency_timeouts: lat.timeouts,
      cpu_per_msg_us: Math.round(((c.user + c.system) / Math.max(1, r.acked)) * 10) / 10,
      rss_mb: Math.round(peak / 1048576),
      note: 'in the bench process (its RSS includes the harness); stores nothing',
    };
  } finally {
    await b.close();
  }
}

/** (b) bare Mosquitto on a free port */
async function bareMosquitto(o: Opts): Promise<PeerResult> {
  const m = await startMosquitto();
  try {
    const load = await connectLoad(m.port, o.devices);
    const s0 = procStats(m.proc.pid!);
    const r = await burst(load, o.messages, o.seconds);
    const s1 = procStats(m.proc.pid!);
    await stopLoad(load);
    const lat = await latencyUnderLoad(m.port, { devices: o.devices, rate: o.rate, samples: o.samples });
    say(`mosquitto: ${r.msgsPerS} msgs/s; publish → subscriber p50 ${lat.p50} ms, p99 ${lat.p99} ms`);
    return {
      msgs_per_s: r.msgsPerS,
      acknowledged_means_stored: false,
      lost: 0,
      latency_ms_p50: lat.p50,
      latency_ms_p99: lat.p99,
      latency_of: 'publish → subscriber',
      latency_timeouts: lat.timeouts,
      cpu_per_msg_us: Math.round(((s1.cpuS - s0.cpuS) / Math.max(1, r.acked)) * 1e7) / 10,
      rss_mb: s1.peakMB,
      note: 'stores nothing',
    };
  } finally {
    await m.close();
  }
}

/** (c) Node-RED behind Mosquitto: mqtt in → function (one INSERT per message) → http request above 100 cm */
async function nodeRed(o: Opts): Promise<PeerResult> {
  const redJs = path.join(NODE_RED_DIR, 'node_modules', 'node-red', 'red.js');
  if (!fs.existsSync(redJs)) {
    say('installing Node-RED for the bench (bench/peers/node-red, its own lockfile; once) …');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', NODE_RED_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const dbName = `rw_peers_nr_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: o.databaseUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(o.databaseUrl);
  u.pathname = `/${dbName}`;
  const db = new pg.Client({ connectionString: u.toString() });
  await db.connect();
  await db.query('create table readings(device_id text not null, metric text not null, time timestamptz not null, value double precision)');
  const m = await startMosquitto();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-peers-node-red-'));
  const probe = child('probe', { username: 'bench', password: 'x', prefix: 'alarm-' });
  let red: ChildProcess | undefined;
  try {
    const hook = await probe.wait('listening');
    const flows = path.join(userDir, 'flows.json');
    fs.copyFileSync(path.join(NODE_RED_DIR, 'flows.json'), flows);
    red = spawn(process.execPath, [redJs, '--settings', path.join(NODE_RED_DIR, 'settings.cjs'), '--userDir', userDir], {
      env: {
        ...process.env,
        BENCH_NR_PORT: String(await freePort()),
        BENCH_NR_FLOWS: flows,
        BENCH_DATABASE_URL: u.toString(),
        BENCH_MQTT_PORT: String(m.port),
        BENCH_WEBHOOK_URL: hook.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    red.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    red.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    for (let i = 0; i < 600 && !/Connected to broker/.test(log); i++) await sleep(100);
    if (!/Connected to broker/.test(log)) throw new Error(`Node-RED did not connect to its broker:\n${log.slice(-2000)}`);
    say('Node-RED flow running');
    const load = await connectLoad(m.port, o.devices);
    const s0 = procStats(red.pid!);
    const t0 = performance.now();
    const r = await burst(load, o.messages, o.seconds);
    // Mosquitto acknowledges on receipt; the rate that counts is the rate of stored rows
    let rows = 0;
    for (let i = 0; i < 1200; i++) {
      rows = Number((await db.query<{ n: string }>('select count(*) as n from readings')).rows[0].n);
      if (rows >= r.acked) break;
      await sleep(100);
    }
    const ms = performance.now() - t0;
    const s1 = procStats(red.pid!);
    const lost = Math.max(0, r.acked - rows);
    say(`node-red: ${r.acked} acknowledged by Mosquitto at ${r.msgsPerS} msgs/s; ${rows} stored in ${Math.round(ms)} ms; lost ${lost}`);
    // alarm latency at the background rate: publish → the flow's http request
    load.proc.send({ cmd: 'rate', rate: o.rate, maxMs: 60_000 });
    await sleep(1500);
    probe.proc.send({ cmd: 'run', mqttPort: m.port, password: 'x', samples: o.samples, maxMs: 40_000 });
    const lat = await probe.wait('probe', 60_000);
    load.proc.send({ cmd: 'endrate' });
    await load.wait('rate', 10_000);
    await stopLoad(load);
    say(`node-red: publish → webhook p50 ${lat.p50} ms, p99 ${lat.p99} ms (${lat.timeouts} timeouts)`);
    return {
      msgs_per_s: Math.round((rows / ms) * 1000),
      acknowledged_means_stored: false,
      lost,
      latency_ms_p50: lat.p50,
      latency_ms_p99: lat.p99,
      latency_of: 'publish → webhook',
      latency_timeouts: lat.timeouts,
      cpu_per_msg_us: Math.round(((s1.cpuS - s0.cpuS) / Math.max(1, rows)) * 1e7) / 10,
      rss_mb: s1.peakMB,
      note: 'PUBACK comes from Mosquitto on receipt, before the insert: it cannot offer acknowledged-means-stored; msgs/s = stored rows per second, cpu and RSS of the Node-RED process',
    };
  } finally {
    red?.kill();
    if (red && red.exitCode === null) await new Promise((res) => red?.once('exit', res));
    await m.close();
    await db.end();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

/** (d, e) the normal bench in its own process, with the same load figures */
async function regenwacht(o: Opts, store: 'pg' | 'embedded'): Promise<PeerResult> {
  const args = [
    '--import',
    'tsx',
    path.join(HERE, 'bench.ts'),
    '--store',
    store,
    '--database-url',
    o.databaseUrl,
    '--devices',
    String(o.devices),
    '--messages',
    String(store === 'pg' ? o.messages : Math.min(o.messages, 120_000)),
    '--samples',
    String(o.samples),
    '--background-rate',
    String(o.rate),
    '--relay-messages',
    '20000',
    '--log-level',
    'warn',
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  const line = out.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`bench --store ${store} printed no result (exit ${code})`);
  const j = JSON.parse(line);
  return {
    msgs_per_s: j.ingest_msgs_per_s,
    acknowledged_means_stored: true,
    lost: j.lost,
    latency_ms_p50: j.alarm_latency_ms_p50,
    latency_ms_p99: j.alarm_latency_ms_p99,
    latency_of: 'publish → webhook',
    latency_timeouts: j.alarm_timeouts,
    cpu_per_msg_us: j.cpu_per_msg_us,
    rss_mb: j.rss_mb,
  };
}

interface Opts {
  databaseUrl: string;
  devices: number;
  messages: number;
  seconds: number;
  rate: number;
  samples: number;
}

export async function runPeers(a: Args): Promise<void> {
  const o: Opts = {
    databaseUrl: String(a['database-url']),
    devices: Number(a.devices),
    messages: Number(a.messages ?? 150_000),
    seconds: Number(a['ingest-seconds']),
    rate: Number(a['background-rate']),
    samples: Number(a.samples ?? 100),
  };
  say(`peers: ${o.devices} connections, ${o.messages} messages per burst, ${o.rate} msgs/s background, node ${process.version}, ${os.cpus().length} cpus`);
  try {
    const peers: Record<string, PeerResult | { error: string }> = {};
    const run = async (name: string, f: () => Promise<PeerResult>) => {
      try {
        peers[name] = await f();
      } catch (e) {
        say(`${name} failed: ${(e as Error).message}`);
        peers[name] = { error: (e as Error).message };
      }
    };
    const relay = await startBareAedes();
    const relayMsgs = await relayRate(relay.port, 100_000).finally(() => relay.close());
    await run('aedes', () => bareAedes(o));
    await run('mosquitto', () => bareMosquitto(o));
    await run('node_red', () => nodeRed(o));
    await run('regenwacht_pg', () => regenwacht(o, 'pg'));
    await run('regenwacht_embedded', () => regenwacht(o, 'embedded'));
    const base = peers.aedes as PeerResult | undefined;
    const ratio = (x: number | null | undefined, y: number | null | undefined) => (x && y ? Math.round((x / y) * 100) / 100 : null);
    const ratios: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(peers)) {
      if ('error' in p || !base || 'error' in base) continue;
      ratios[name] = {
        msgs_per_s_to_aedes: ratio(p.msgs_per_s, base.msgs_per_s),
        latency_p50_to_aedes: ratio(p.latency_ms_p50, base.latency_ms_p50),
        latency_p99_to_aedes: ratio(p.latency_ms_p99, base.latency_ms_p99),
      };
    }
    const lost = Object.values(peers).some((p) => !('error' in p) && p.acknowledged_means_stored && p.lost > 0);
    process.stdout.write(
      `${JSON.stringify({ peers, ratios, aedes_relay_msgs_per_s: relayMsgs.msgsPerS, ...o, databaseUrl: undefined, node: process.version, cpus: os.cpus().length })}\n`,
    );
    if (lost) process.exitCode = 3;
  } finally {
    killChildren();
  }
}
