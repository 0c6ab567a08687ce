// One codec-sandbox worker thread: runs uploaded `decodeUplink` codecs in QuickJS compiled to WebAssembly,
// with a memory limit, a stack limit and an interrupt deadline per call. Only strings cross in and out.
// Plain JavaScript, so the same file starts from the sources (tsx, vitest) and from the build (node dist/…).
// The main thread keeps a wall-clock watchdog on top: built-ins that never check the interrupt are ended by
// terminating this thread (see codec-sandbox.ts). [docs/security.md#codec-sandbox]
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import base from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten-core';

const { memoryBytes, stackBytes, cpuMs, maxOutputChars, wasmMaxBytes } = workerData;
const PAGE = 65536;
// QuickJS counts what it allocates; the WebAssembly memory cap also bounds what fragmentation costs.
const memory = new WebAssembly.Memory({ initial: 256, maximum: Math.max(256, Math.ceil(wasmMaxBytes / PAGE)) });
const QJS = await newQuickJSWASMModuleFromVariant(newVariant(base, { wasmMemory: memory }));

// Evaluated once per codec in its own context. The codec's source becomes the body of a factory function,
// compiled once (compiling is most of the cost of a call) and run anew on every call, so its top-level
// variables and functions start fresh each time; global properties a call creates (`i = 0` without `var`)
// are deleted after it. `call` returns the output JSON, or a number: 0 = no decodeUplink, 1 = has one
// (check only), -1 = nothing returned, n = output too long. `describe` reads a thrown value inside the
// sandbox, where the time limit still applies, so a looping getter or Proxy trap ends as a timeout; it
// never reads `stack`. Both keep the built-ins they need from before the codec could touch them.
const PREPARE = `(function (src) {
  var parse = JSON.parse, stringify = JSON.stringify, keys = Object.keys, G = globalThis, D = Date, E = Error, S = String;
  var describe = function (e) {
    try {
      if (e instanceof E) return S(e.name) + ': ' + S(e.message);
      return typeof e === 'string' ? e : 'a non-error value was thrown (' + typeof e + ')';
    } catch (_) {
      return 'a non-error value was thrown';
    }
  };
  var factory;
  try {
    factory = Function(src + '\\n;return typeof decodeUplink === "function" ? decodeUplink : undefined;');
  } catch (e) {
    return describe(e);
  }
  var call = function (s) {
    try {
      var decode = factory();
      if (s === undefined) return decode ? 1 : 0;
      if (!decode) return 0;
      var input = parse(s);
      input.recvTime = new D(input.recvTime);
      var out = stringify(decode(input));
      return typeof out !== 'string' ? -1 : out.length > ${Number(maxOutputChars)} ? out.length : out;
    } finally {
      var k = keys(G);
      for (var i = 0; i < k.length; i++) delete G[k[i]];
    }
  };
  return [call, describe];
})`;

// What a codec may use: the ECMAScript built-ins a TTN codec needs. No Promise (there is no event loop to
// run it) and no String.prototype.normalize. Typed arrays, Map/Set and Proxy — the costliest to set up — only
// for a codec whose source names them (the main thread looks, see codec-sandbox.ts).
const BASE = { BaseObjects: true, Date: true, Eval: true, JSON: true, RegExp: true };
const INTRINSICS = Array.from({ length: 8 }, (_, f) => ({ ...BASE, TypedArrays: (f & 1) > 0, MapSet: (f & 2) > 0, Proxy: (f & 4) > 0 }));

/** CPU time of this thread in ms (Linux); undefined where the kernel does not offer it, then wall time counts. */
const threadCpuMs = (() => {
  try {
    const fd = fs.openSync('/proc/thread-self/schedstat', 'r');
    const buf = Buffer.alloc(96);
    const read = () => {
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const s = buf.toString('latin1', 0, n);
      return Number(s.slice(0, s.indexOf(' '))) / 1e6;
    };
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
})();

const MEMORY_ERRORS = /(^|: )(InternalError: (out of memory|stack overflow|string too long)|RangeError: (invalid array buffer length|invalid array length))$/;
const RECYCLE_AFTER = 20_000;

let runtime;
let calls = 0;
// The budget is CPU time, so a codec is not cut short because the machine is busy: the interrupt handler
// looks at the thread's CPU clock once the wall clock says the budget could be used up. The CPU clock is
// read at most every 5 ms (a read costs ~10 µs), so a call may be charged up to 5 ms of its predecessors.
let deadline = 0;
let cpuStart = 0;
let cpuMark = threadCpuMs?.() ?? 0;
let cpuMarkAt = performance.now();

function startClock() {
  const now = performance.now();
  if (threadCpuMs && now - cpuMarkAt > 5) {
    cpuMark = threadCpuMs();
    cpuMarkAt = now;
  }
  cpuStart = cpuMark;
  deadline = now + cpuMs;
}

function overBudget() {
  if (performance.now() <= deadline) return false;
  return threadCpuMs ? threadCpuMs() - cpuStart > cpuMs : true;
}

/** reason for a failure message read inside the sandbox */
function classify(message) {
  if (message.endsWith('InternalError: interrupted') || overBudget()) return 'codec_timeout';
  return MEMORY_ERRORS.test(message) ? 'codec_memory' : 'codec_error';
}

/** Describe a thrown handle with the codec context's `describe`; an uncatchable interrupt means timeout. */
function explain(entry, errHandle, prefix) {
  const { ctx, describe } = entry;
  const r = ctx.callFunction(describe, ctx.undefined, errHandle);
  errHandle.dispose();
  if (r.error) {
    r.error.dispose();
    return overBudget()
      ? { reason: 'codec_timeout', message: `codec ran longer than ${cpuMs} ms` }
      : { reason: 'codec_memory', message: 'no memory left to report the error' };
  }
  const text = ctx.typeof(r.value) === 'string' ? ctx.getString(r.value).slice(0, 300) : 'a non-error value was thrown';
  r.value.dispose();
  const reason = classify(text);
  return { reason, message: reason === 'codec_timeout' ? `codec ran longer than ${cpuMs} ms` : `${prefix}${text}` };
}

const NO_DECODE = { reason: 'codec_error', message: 'codec defines no decodeUplink(input) function' };
const CACHED = 16;
/** prepared codec contexts by the main thread's key for their source, least recently used first */
const contexts = new Map();

function drop(entry) {
  for (const h of [entry.call, entry.describe]) if (h?.alive) h.dispose();
  if (entry.ctx.alive) entry.ctx.dispose();
}

function freshRuntime() {
  for (const e of contexts.values()) drop(e);
  contexts.clear();
  runtime?.dispose();
  runtime = QJS.newRuntime();
  runtime.setMemoryLimit(memoryBytes);
  runtime.setMaxStackSize(stackBytes);
  runtime.setInterruptHandler(overBudget);
  calls = 0;
}

/** The codec's context: its own global object and built-ins, its source compiled once. */
function prepare(job) {
  const cached = contexts.get(job.key);
  if (cached) {
    contexts.delete(job.key); // re-inserted below as the most recently used
    if (cached.source === job.source) {
      contexts.set(job.key, cached);
      return cached;
    }
    drop(cached);
  }
  const ctx = runtime.newContext({ intrinsics: INTRINSICS[job.features & 7] });
  let made;
  const prep = ctx.evalCode(PREPARE, 'js-codec-prepare.js');
  if (!prep.error) {
    const src = ctx.newString(job.source);
    made = ctx.callFunction(prep.value, ctx.undefined, src);
    src.dispose();
    prep.value.dispose();
  }
  const failed = prep.error ?? made.error;
  if (failed) {
    failed.dispose();
    ctx.dispose();
    return overBudget()
      ? { reason: 'codec_timeout', message: `codec ran longer than ${cpuMs} ms` }
      : { reason: 'codec_memory', message: 'no memory left to load the codec' };
  }
  if (ctx.typeof(made.value) === 'string') {
    const message = `codec does not load: ${ctx.getString(made.value).slice(0, 300)}`;
    made.value.dispose();
    ctx.dispose();
    return { reason: 'codec_error', message };
  }
  const entry = { source: job.source, ctx, call: ctx.getProp(made.value, 0), describe: ctx.getProp(made.value, 1) };
  made.value.dispose();
  if (contexts.size >= CACHED) {
    const [oldKey, old] = contexts.entries().next().value;
    contexts.delete(oldKey);
    drop(old);
  }
  contexts.set(job.key, entry);
  return entry;
}

/** One call: a fresh run of the codec's top level, then decodeUplink, in the codec's cached context. */
function decode(job) {
  if (!runtime || calls++ >= RECYCLE_AFTER) freshRuntime();
  startClock();
  const entry = prepare(job);
  if (entry.reason) return entry;
  const { ctx } = entry;
  const arg = job.input === undefined ? ctx.undefined : ctx.newString(job.input);
  try {
    const r = ctx.callFunction(entry.call, ctx.undefined, arg);
    // After a time or memory limit the message handler starts a fresh runtime: no state of a call cut short
    // mid-way is reused.
    if (r.error) return explain(entry, r.error, job.input === undefined ? 'codec does not load: ' : 'codec threw: ');
    try {
      if (ctx.typeof(r.value) === 'string') return { json: ctx.getString(r.value) };
      const n = ctx.getNumber(r.value);
      if (n === 1) return { json: 'null' };
      if (n === 0) return NO_DECODE;
      if (n === -1) return { reason: 'codec_error', message: 'decodeUplink returned nothing' };
      return { reason: 'codec_error', message: `output of ${n} characters exceeds ${maxOutputChars}` };
    } finally {
      r.value.dispose();
    }
  } finally {
    if (arg !== ctx.undefined && arg.alive) arg.dispose();
  }
}

parentPort.on('message', (job) => {
  let out;
  try {
    out = decode(job);
  } catch (e) {
    // The WebAssembly instance itself failed (e.g. its memory could not grow): answer, then let the main
    // thread replace this worker; nothing of the instance is trusted afterwards.
    const message = e instanceof Error ? e.message : String(e);
    parentPort.postMessage({
      id: job.id,
      reason: /memory|abort|unreachable/i.test(message) ? 'codec_memory' : 'codec_error',
      message: `codec sandbox failed: ${message.slice(0, 200)}`,
      fatal: true,
    });
    return;
  }
  let fatal = false;
  if (out.reason && out.reason !== 'codec_error') {
    // after a limit was hit, start clean; if even that fails, answer and let the main thread replace this worker
    try {
      freshRuntime();
    } catch {
      fatal = true;
    }
  }
  parentPort.postMessage(fatal ? { id: job.id, ...out, fatal } : { id: job.id, ...out });
});
// The first call in a fresh instance compiles the WebAssembly code it touches: pay that before taking work.
decode({
  id: 0,
  key: -1,
  features: 7,
  source: 'function decodeUplink(input) { return { data: { a: [input.fPort, input.recvTime.getTime()].join() } }; }',
  input: '{"bytes":[],"fPort":1,"recvTime":0}',
});
// The main thread's watchdog reads this thread's CPU clock too: tell it which thread this is (Linux).
let thread;
try {
  thread = fs.readlinkSync('/proc/thread-self');
  // Codec work yields to the main thread (HTTP, MQTT, alarms) when the CPU is short: on Linux a thread's
  // nice value is its own, so this lowers only this worker.
  os.setPriority(Number(thread.split('/').pop()), 5); // nice 5: a third of the main thread's share
} catch {}
parentPort.postMessage({ ready: true, thread });
