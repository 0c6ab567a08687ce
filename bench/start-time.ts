// Wall-clock start time of `npm start` on the embedded store, measured from the shell's point of view: from
// spawning the command to the ready banner and to the first GET /readyz = 200, on free ports and a fresh
// DATA_DIR. First starts (database created) and later starts (same DATA_DIR again), plus the idle RSS of the
// server process and of the whole process tree (npm, sh, node) some seconds after ready. [docs/benchmarks.md]
//
//   npm run bench:start -- [--runs 5] [--idle-seconds 10] [--command "npm start"]
//   EMBEDDED_SHARED_BUFFERS_MB=128 npm run bench:start …   (the server's environment is the bench's)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', '5'));
const IDLE_S = Number(opt('idle-seconds', '10'));
const COMMAND = opt('command', 'npm start');
const ROOT = path.resolve(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Resident set size in MB of every process under `pid` (npm, sh and node), largest first. */
function rssTree(pid: number): { pid: number; cmd: string; mb: number }[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; cmd: string; mb: number }[] = [];
  const visit = (p: number) => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: p, cmd, mb: Math.round(kb / 1024) });
    } catch {
      // gone meanwhile
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out.sort((a, b) => b.mb - a.mb);
}

interface Run {
  banner_ms: number;
  readyz_ms: number;
  rss_idle_mb?: number;
  rss_idle_tree_mb?: number;
  rss_ready_tree_mb?: number;
}

async function once(dataDir: string, measureRss: boolean): Promise<Run> {
  const [http, mqtt] = [await freePort(), await freePort()];
  const t0 = performance.now();
  const p = spawn('sh', ['-c', COMMAND], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: String(http), MQTT_PORT: String(mqtt), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let bannerAt = 0;
  p.stdout.on('data', (d) => {
    out += d;
    if (!bannerAt && out.includes('Regenwacht ready')) bannerAt = performance.now();
  });
  p.stderr.on('data', (d) => (out += d));
  let exited = false;
  p.once('exit', () => (exited = true));
  let readyAt = 0;
  const deadline = Date.now() + 120_000;
  while (!readyAt && !exited && Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${http}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) readyAt = performance.now();
    else await new Promise((r) => setTimeout(r, 20));
  }
  const result: Run = { banner_ms: Math.round(bannerAt - t0), readyz_ms: Math.round(readyAt - t0) };
  if (!readyAt) {
    process.kill(-p.pid!, 'SIGKILL');
    throw new Error(`not ready within 120 s:\n${out}`);
  }
  if (measureRss) {
    const sum = (xs: { mb: number }[]) => xs.reduce((a, x) => a + x.mb, 0);
    result.rss_ready_tree_mb = sum(rssTree(p.pid!));
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const tree = rssTree(p.pid!);
    result.rss_idle_mb = tree.find((x) => /main\.(js|ts)/.test(x.cmd))?.mb;
    result.rss_idle_tree_mb = sum(tree);
  }
  process.kill(-p.pid!, 'SIGTERM');
  await new Promise((r) => (exited ? r(undefined) : p.once('exit', r)));
  return result;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const first: Run[] = [];
const later: Run[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-start-bench-'));
try {
  for (let i = 0; i < RUNS; i++) {
    const dir = path.join(tmp, `data-${i}`);
    first.push(await once(dir, false));
    process.stderr.write(`first start ${i + 1}: ${JSON.stringify(first.at(-1))}\n`);
    later.push(await once(dir, i === 0));
    process.stderr.write(`later start ${i + 1}: ${JSON.stringify(later.at(-1))}\n`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    command: COMMAND,
    first_start_readyz_ms: first.map((r) => r.readyz_ms),
    later_start_readyz_ms: later.map((r) => r.readyz_ms),
    first_start_median_ms: median(first.map((r) => r.readyz_ms)),
    later_start_median_ms: median(later.map((r) => r.readyz_ms)),
    rss_idle_mb: later[0]?.rss_idle_mb,
    rss_idle_tree_mb: later[0]?.rss_idle_tree_mb,
    rss_ready_tree_mb: later[0]?.rss_ready_tree_mb,
    idle_seconds: IDLE_S,
    embedded_shared_buffers_mb: process.env.EMBEDDED_SHARED_BUFFERS_MB ?? 'default',
    loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10),
    node: process.version,
    cpus: os.cpus().length,
  }),
);
