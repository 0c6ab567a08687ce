// npx tsx bench/codec.ts [--seconds 10] [--in-flight 64] [--workers N] — cost of one js-codec decode in the
// codec sandbox (QuickJS/WebAssembly in worker threads), the main thread's share of it, and how the main event
// loop fares while hostile codecs run. The last stdout line is one JSON object. See docs/benchmarks.md.
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CodecSandbox } from '../services/ingest/codecs/codec-sandbox.ts';
import { runJsCodec } from '../services/ingest/codecs/js-codec.ts';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'in-flight': { type: 'string', default: '64' },
    workers: { type: 'string' },
  },
});
const SECONDS = Math.min(60, Number(a.seconds));
const IN_FLIGHT = Number(a['in-flight']);
/** this thread's CPU time in µs (Linux), to tell the main thread's share from the workers' */
const mainCpuUs = (): number => {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1000;
  } catch {
    return Number.NaN;
  }
};
const say = (s: string) => process.stderr.write(`[codec-bench] ${s}\n`);

// A device-repository style codec of ordinary size: a Dragino LDDS75-like frame with a status byte.
const CODEC = `
function decodeUplink(input) {
  var b = input.bytes;
  if (input.fPort !== 2) return { errors: ['unknown FPort ' + input.fPort] };
  if (b.length < 8) return { errors: ['frame too short'] };
  var bat = ((b[0] << 8) | b[1]) & 0x3fff;
  var dist = (b[2] << 8) | b[3];
  var temp = (b[5] << 8) | b[6];
  if (temp & 0x8000) temp -= 0x10000;
  return {
    data: {
      Bat: (bat / 1000).toFixed(3) + ' V',
      distance: { value: dist, unit: 'mm' },
      TempC_DS18B20: (temp / 10).toFixed(2),
      Interrupt_flag: b[4] & 0x01,
      Sensor_flag: b[7],
    },
    warnings: dist === 0 ? ['no target'] : [],
  };
}`;
const MAP = { battery_v: 'Bat', distance_mm: 'distance.value', temperature_c: 'TempC_DS18B20' };
const FRAME = { bytes: Buffer.from('0D3B0AEF00010001', 'hex'), fPort: 2 };

const HOSTILE: Record<string, string> = {
  stack_getter: "var e = new Error('x'); Object.defineProperty(e, 'stack', { get: function () { for (;;) {} } }); throw e;",
  thrown_proxy: 'var h = function () { for (;;) {} }; throw new Proxy({}, { get: h, has: h, getPrototypeOf: h });',
  typed_array_2gib: 'return { data: { d: new Uint8Array(2147483648).length } };',
  string_2p28: "return { data: { d: 'x'.repeat(268435456).split('').length } };",
  allocation_loop: 'var k = []; for (;;) k.push(new Array(1e5).fill(1.5));',
  endless_loop: 'for (;;) {}',
};

async function main() {
  const sandbox = new CodecSandbox(a.workers ? { workers: Number(a.workers) } : {});
  const check = await runJsCodec(sandbox, CODEC, FRAME, MAP);
  if (!check.ok) throw new Error(`bench codec failed: ${check.message}`);

  // warm-up: workers started, code paths compiled
  await runFor(sandbox, 1500);
  say(`warm; measuring ${SECONDS} s with ${IN_FLIGHT} decodes in flight over ${sandbox.limits.workers} workers`);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const main0 = mainCpuUs();
  const t0 = performance.now();
  const { n, latencies } = await runFor(sandbox, SECONDS * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainUs = mainCpuUs() - main0;
  lag.disable();
  latencies.sort((x, y) => x - y);
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) / 100;
  const result: Record<string, unknown> = {
    decodes_per_s: Math.round(n / wall),
    cpu_us_per_decode: Math.round(((cpu.user + cpu.system) / n) * 10) / 10,
    main_thread_cpu_us_per_decode: Math.round((mainUs / n) * 10) / 10,
    latency_ms_p50: q(0.5),
    latency_ms_p99: q(0.99),
    event_loop_lag_ms_max: Math.round(lag.max / 1e4) / 100,
    decodes: n,
    seconds: Math.round(wall * 10) / 10,
    workers: sandbox.limits.workers,
    in_flight: IN_FLIGHT,
  };

  // Hostile codecs, one after the other, each run 5 times while a normal decode stream continues.
  const hostile: Record<string, unknown> = {};
  for (const [name, body] of Object.entries(HOSTILE)) {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const reasons = new Set<string>();
    const t = performance.now();
    for (let i = 0; i < 5; i++) {
      const r = await runJsCodec(sandbox, `function decodeUplink(input) { ${body} }`, FRAME, MAP);
      reasons.add(r.ok ? 'ok' : r.reason);
    }
    const after = await runJsCodec(sandbox, CODEC, FRAME, MAP);
    h.disable();
    hostile[name] = {
      reasons: [...reasons].join(','),
      ms_per_call: Math.round((performance.now() - t) / 5),
      event_loop_lag_ms_max: Math.round(h.max / 1e4) / 100,
      normal_after: after.ok,
    };
  }
  result.hostile = hostile;
  result.workers_replaced = sandbox.replaced;
  result.rss_mb = Math.round(process.memoryUsage().rss / 1048576);
  result.node = process.version;
  await sandbox.close();
  console.log(JSON.stringify(result));
}

/** Keeps IN_FLIGHT decodes going for `ms`; returns how many completed and their latencies. */
async function runFor(sandbox: CodecSandbox, ms: number) {
  const end = performance.now() + ms;
  const latencies: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const r = await runJsCodec(sandbox, CODEC, FRAME, MAP);
        if (!r.ok) throw new Error(`decode failed: ${r.message}`);
        latencies.push(performance.now() - t);
        n++;
      }
    }),
  );
  return { n, latencies };
}

const guard = setTimeout(() => {
  say('exceeded 120 s; giving up');
  process.exit(1);
}, 120_000);
guard.unref();
await main();
