// npx tsx bench/broker-options.ts [--messages 30000] [--rounds 3] [--variants base,nofanout] [--cpu-prof DIR]
// Issue 17: aedes' own options, A/B side by side. One PostgreSQL database and one set of 1 000 devices; each
// round starts Regenwacht (in this process) once per variant, in turn, connects the 1 000 device connections
// of bench/load.ts and sends the same burst; per variant and round: PUBACKs per second, this process's CPU per
// message (the load generator is a child and not counted) and the load average. `bare-*` variants run bare
// aedes under the same load instead (harness.ts aedesSameLoad). Results as a table on stderr, JSON on stdout.
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';
import type { Running } from '../services/app.ts';
import { aedesTuning } from '../services/broker/broker.ts';
import { aedesSameLoad, child, cpuProfiled, killChildren, say } from './harness.ts';
import { benchServer, DEFAULT_DATABASE_URL, insertDevices, uplinkCredential } from './setup.ts';

const { values: a } = parseArgs({
  options: {
    'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
    devices: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '30000' },
    window: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'base,nofanout' },
    'ingest-seconds': { type: 'string', default: '25' },
    'cpu-prof': { type: 'string' },
  },
});

/** the in-memory persistence aedes uses by default, with no subscription lookup (valid only while nothing is subscribed) */
async function noLookupPersistence() {
  // aedes' default persistence, taken from a broker that is closed again (it is not a dependency of ours)
  const tmp = await Aedes.createBroker();
  const p = (tmp as unknown as { persistence: unknown }).persistence as { subscriptionsByTopic: (topic: string) => Promise<unknown[]> };
  await new Promise<void>((r) => tmp.close(() => r()));
  p.subscriptionsByTopic = async () => [];
  return p;
}

/** name → aedes options and whether a client's uplink still goes through aedes' fan-out after its PUBACK */
const VARIANTS: Record<string, { options?: () => Record<string, unknown> | Promise<Record<string, unknown>>; fanOut?: 'always'; bare?: boolean }> = {
  // main before this session: concurrency 1000, every publish through Aedes.publish
  base: { fanOut: 'always' },
  // aedes' default mqemitter concurrency
  c100: { options: () => ({ concurrency: 100 }), fanOut: 'always' },
  // timers only: the $SYS heartbeat every hour instead of every minute, 1 000 packets queued before CONNACK
  timers: { options: () => ({ heartbeatInterval: 3_600_000, queueLimit: 1000 }), fanOut: 'always' },
  // persistence without the subscription lookup of every QoS 1 publish (enqueueOffline)
  nolookup: { options: async () => ({ persistence: await noLookupPersistence() }), fanOut: 'always' },
  // this session's change: an uplink nobody subscribed to ends with its PUBACK
  nofanout: {},
  bare: { bare: true },
  'bare-c100': { bare: true, options: () => ({ concurrency: 100 }) },
  'bare-nolookup': { bare: true, options: async () => ({ persistence: await noLookupPersistence() }) },
};

const N_DEV = Number(a.devices);
const N_MSG = Number(a.messages);
const WINDOW = Number(a.window);
const MAX_MS = Number(a['ingest-seconds']) * 1000;
const names = (a.variants as string).split(',');
for (const n of names) if (!VARIANTS[n]) throw new Error(`unknown variant ${n}; known: ${Object.keys(VARIANTS).join(', ')}`);

const deadline = setTimeout(() => {
  say('exceeded the time limit; giving up');
  killChildren();
  process.exit(1);
}, 1_800_000);
deadline.unref();

const profiled = <T>(name: string, fn: () => Promise<T>) => cpuProfiled(a['cpu-prof'], name, fn);

/** CPU seconds so far of each PostgreSQL backend serving this database (from /proc: PostgreSQL on this machine) */
async function pgCpu(r: Running): Promise<Map<number, number>> {
  const pids = (await r.ctx.db.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()')).rows.map((x) => x.pid);
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) / 100); // utime + stime, in clock ticks of 10 ms
    } catch {
      // not on this machine, or gone
    }
  }
  return out;
}

/** the server's environment: PATH, plus INGEST_* and MQTT_* settings given to the bench (e.g. MQTT_MAX_UNACKED) */
function benchEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('INGEST_') || k.startsWith('MQTT_'))) };
}

interface Row {
  variant: string;
  round: number;
  msgsPerS: number;
  cpuPerMsgUs: number;
  /** the PostgreSQL backends' CPU per message (10 ms resolution) */
  pgCpuPerMsgUs?: number;
  acked: number;
  load1: number;
}

async function main() {
  say(`variants ${names.join(', ')}; ${a.rounds} rounds of ${N_MSG} messages over ${N_DEV} connections (window ${WINDOW})`);
  const s = await benchServer({ label: 'aedesopts', store: 'pg', adminUrl: a['database-url'], logLevel: 'warn', env: benchEnv() });
  const rows: Row[] = [];
  try {
    let r = await s.start();
    await insertDevices(r, [{ prefix: 'bench-', count: N_DEV, tags: { bench: 'load' } }]);
    const password = await uplinkCredential(s, r, 'bench');
    await r.stop();
    let burstNo = 0;
    for (let round = 1; round <= Number(a.rounds); round++) {
      // alternate the order from round to round, so drift falls on every variant alike
      const order = round % 2 ? names : [...names].reverse();
      for (const name of order) {
        const v = VARIANTS[name];
        const load1 = os.loadavg()[0];
        const options = await v.options?.();
        if (v.bare) {
          const same = await profiled(`${name}-${round}`, () => aedesSameLoad({ devices: N_DEV, messages: N_MSG, window: WINDOW, maxMs: MAX_MS, options }));
          rows.push({ variant: name, round, msgsPerS: same.msgsPerS, cpuPerMsgUs: same.cpuPerMsgUs, acked: same.acked, load1: (load1 + os.loadavg()[0]) / 2 });
        } else {
          aedesTuning.options = options;
          aedesTuning.fanOut = v.fanOut;
          r = await s.start();
          const load = child('load', {
            port: Number(new URL(r.mqttUrl as string).port),
            username: 'bench',
            password,
            devices: N_DEV,
            prefix: 'bench-',
            // every burst its own readings (a device's k-th message is base + k s): none is a duplicate
            baseTime: Date.now() - 12 * 3_600_000 + burstNo++ * 3_600_000 * 0.1,
          });
          try {
            await load.wait('connected', 90_000);
            const pg0 = await pgCpu(r);
            const c0 = process.cpuUsage();
            const burst = await profiled(`${name}-${round}`, () => {
              load.proc.send({ cmd: 'burst', messages: N_MSG, window: WINDOW, maxMs: MAX_MS });
              return load.wait('burst', MAX_MS + 30_000);
            });
            const c = process.cpuUsage(c0);
            let pgS = 0;
            for (const [pid, sec] of await pgCpu(r)) pgS += sec - (pg0.get(pid) ?? 0);
            rows.push({
              pgCpuPerMsgUs: Math.round((pgS * 1e7) / Math.max(1, burst.acked)) / 10,
              variant: name,
              round,
              msgsPerS: burst.msgsPerS,
              cpuPerMsgUs: Math.round(((c.user + c.system) / Math.max(1, burst.acked)) * 10) / 10,
              acked: burst.acked,
              load1: (load1 + os.loadavg()[0]) / 2,
            });
          } finally {
            load.proc.send({ cmd: 'stop' });
            await load.wait('stopped', 10_000).catch(() => undefined);
            await r.stop();
            aedesTuning.options = undefined;
            aedesTuning.fanOut = undefined;
          }
        }
        const row = rows[rows.length - 1];
        const pgPart = row.pgCpuPerMsgUs === undefined ? '' : ` + PostgreSQL ${row.pgCpuPerMsgUs}`;
        say(`round ${round} ${name}: ${row.msgsPerS} msgs/s, ${row.cpuPerMsgUs}${pgPart} us/msg (${row.acked} acked), load ${row.load1.toFixed(1)}`);
      }
    }
    const stored = Number(
      (await (r = await s.start()).ctx.db.query<{ n: number }>(`select count(*)::int as n from readings where device_id like 'bench-%'`)).rows[0].n,
    );
    await r.stop();
    const acked = rows.filter((x) => !VARIANTS[x.variant].bare).reduce((t, x) => t + x.acked, 0);
    say(`stored rows ${stored}, acknowledged by Regenwacht ${acked}, lost ${Math.max(0, acked - stored)}`);
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
    for (const n of names) {
      const mine = rows.filter((x) => x.variant === n);
      const pgMed = VARIANTS[n].bare ? '' : ` + PostgreSQL ${med(mine.map((x) => x.pgCpuPerMsgUs ?? 0))}`;
      say(`${n}: median ${med(mine.map((x) => x.msgsPerS))} msgs/s, ${med(mine.map((x) => x.cpuPerMsgUs))}${pgMed} us/msg`);
    }
    process.stdout.write(`${JSON.stringify({ rows, stored, acked, lost: Math.max(0, acked - stored) })}\n`);
    if (acked > stored) process.exitCode = 3;
  } finally {
    killChildren();
    await s.cleanup();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    say(`failed: ${(e as Error).stack}`);
    killChildren();
    process.exit(1);
  },
);
