// Shared by the bench scripts: load-generator children (bench/load.ts) over IPC, and the bare-broker
// measurements every figure is compared with (relay rate; publish → subscriber latency under background load).
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const T_START = Date.now();
export const say = (s: string) => process.stderr.write(`[bench +${((Date.now() - T_START) / 1000).toFixed(1)}s] ${s}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const children: ChildProcess[] = [];

export interface LoadChild {
  proc: ChildProcess;
  wait: (ev: string, ms?: number) => Promise<Record<string, any>>;
}

/** A bench/load.ts child in `mode` (relay | load | probe | brokerprobe); `wait` takes its next `ev` message. */
export function child(mode: string, args: unknown): LoadChild {
  const proc = fork(path.join(HERE, 'load.ts'), [mode, JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(proc);
  const inbox: Record<string, any>[] = [];
  const waiters: Array<() => void> = [];
  proc.on('message', (m: Record<string, any>) => {
    if (m.ev === 'error') say(`${mode} child failed: ${m.message}`);
    inbox.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const wait = async (ev: string, ms = 60_000) => {
    const t0 = Date.now();
    for (;;) {
      const i = inbox.findIndex((m) => m.ev === ev || m.ev === 'error');
      if (i >= 0) {
        const m = inbox.splice(i, 1)[0];
        if (m.ev === 'error') throw new Error(`${mode}: ${m.message}`);
        return m;
      }
      if (Date.now() - t0 > ms) throw new Error(`${mode}: no '${ev}' within ${ms} ms`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { proc, wait };
}

export function killChildren(): void {
  for (const c of children) if (c.exitCode === null) c.kill();
}

/** Plain aedes, no auth, no ingest, in this process: the ceiling a broker-based intake could reach here. */
export async function startBareAedes(options: Record<string, unknown> = {}): Promise<{ port: number; close: () => Promise<void> }> {
  const broker = await Aedes.createBroker({ concurrency: 1000, ...options });
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    broker.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      await new Promise<void>((res) => broker.close(() => res()));
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

/**
 * The peer for ingest: the same load generator with the same device connections and the same burst
 * (`messages`, `window` unacknowledged per connection) against bare aedes in this process. PUBACKs per second,
 * and this process's CPU per message (the load generator is a child process and not counted).
 */
export async function aedesSameLoad(o: {
  devices: number;
  messages: number;
  window: number;
  maxMs: number;
  /** aedes options besides concurrency 1000 (bench/broker-options.ts) */
  options?: Record<string, unknown>;
}): Promise<{ msgsPerS: number; acked: number; cpuPerMsgUs: number }> {
  const b = await startBareAedes(o.options);
  const load = child('load', { port: b.port, username: 'bench', password: 'x', devices: o.devices, prefix: 'bench-', baseTime: Date.now() - 3_600_000 });
  try {
    await load.wait('connected', 60_000);
    const c0 = process.cpuUsage();
    load.proc.send({ cmd: 'burst', messages: o.messages, window: o.window, maxMs: o.maxMs });
    const r = await load.wait('burst', o.maxMs + 30_000);
    const c = process.cpuUsage(c0);
    return { msgsPerS: r.msgsPerS, acked: r.acked, cpuPerMsgUs: Math.round(((c.user + c.system) / Math.max(1, r.acked)) * 10) / 10 };
  } finally {
    load.proc.send({ cmd: 'stop' });
    await load.wait('stopped', 10_000).catch(() => undefined);
    await b.close();
  }
}

/** one publisher → one subscriber, QoS 1 both ways, `messages` with 1 000 in flight: msgs/s relayed */
export async function relayRate(port: number, messages: number): Promise<{ msgsPerS: number; received: number; ms: number }> {
  const c = child('relay', { port, messages, window: 1000, maxMs: 15_000 });
  const r = await c.wait('relay', 30_000);
  return { msgsPerS: r.msgsPerS, received: r.received, ms: r.ms };
}

/** publish → subscriber latency through the broker at `port` while `devices` connections publish `rate` msgs/s */
export async function latencyUnderLoad(
  port: number,
  o: { devices: number; rate: number; samples: number },
): Promise<{ p50: number; p99: number; samples: number; timeouts: number }> {
  const bg = child('load', { port, username: 'bench', password: 'x', devices: o.devices, prefix: 'bench-', baseTime: Date.now() - 3_600_000 });
  try {
    await bg.wait('connected', 60_000);
    bg.proc.send({ cmd: 'rate', rate: o.rate, maxMs: 60_000 });
    await sleep(1500);
    const pr = child('brokerprobe', { port, samples: o.samples, maxMs: 40_000 });
    const lat = await pr.wait('brokerprobe', 60_000);
    bg.proc.send({ cmd: 'endrate' });
    await bg.wait('rate', 10_000);
    return { p50: lat.p50, p99: lat.p99, samples: lat.samples, timeouts: lat.timeouts };
  } finally {
    bg.proc.send({ cmd: 'stop' });
    await bg.wait('stopped', 10_000).catch(() => undefined);
  }
}

/** Runs `fn` under a V8 CPU profile written to `dir/name.cpuprofile` (sampling every 200 µs); without `dir`, just runs it. */
export async function cpuProfiled<T>(dir: string | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!dir) return fn();
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
