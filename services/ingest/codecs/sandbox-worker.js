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

// Compiled in each fresh context after the codec (compiling is most of a call's cost, so it is short).
// Returns the output JSON, or a number: 0 = no decodeUplink, -1 = nothing returned, n = output too long.
const CALL = `(function (s) {
  var input = JSON.parse(s);
  input.recvTime = new Date(input.recvTime);
  if (typeof decodeUplink !== 'function') return 0;
  var out = JSON.stringify(decodeUplink(input));
  return typeof out !== 'string' ? -1 : out.length > ${Number(maxOutputChars)} ? out.length : out;
})`;
// Compiled only when something was thrown: reads the thrown value inside the sandbox, where the time limit
// still applies, so a looping getter or Proxy trap ends as a timeout. `stack` is never read.
const DESCRIBE = `(function (e) {
  try {
    if (e instanceof Error) return String(e.name) + ': ' + String(e.message);
    return typeof e === 'string' ? e : 'a non-error value was thrown (' + typeof e + ')';
  } catch (_) {
    return 'a non-error value was thrown';
  }
})`;

// What a codec may use: the ECMAScript built-ins a TTN codec needs. No Promise (there is no event loop to
// run it) and no String.prototype.normalize. Creating the context is the largest part of a call, so typed
// arrays, Map/Set and Proxy are only set up for a codec whose source names them (the main thread looks, see
// codec-sandbox.ts): ~100 µs less per call for the others.
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
const RECYCLE_AFTER = 2000;

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

function freshRuntime() {
  runtime?.dispose();
  runtime = QJS.newRuntime();
  runtime.setMemoryLimit(memoryBytes);
  runtime.setMaxStackSize(stackBytes);
  runtime.setInterruptHandler(overBudget);
  calls = 0;
}

/** reason for a failure message read inside the sandbox */
function classify(message) {
  if (message.endsWith('InternalError: interrupted') || overBudget()) return 'codec_timeout';
  return MEMORY_ERRORS.test(message) ? 'codec_memory' : 'codec_error';
}

/** Describe a thrown handle inside the sandbox; an uncatchable interrupt means timeout. */
function explain(ctx, errHandle, prefix) {
  const fn = ctx.evalCode(DESCRIBE, 'js-codec-describe.js');
  const r = fn.error ? fn : ctx.callFunction(fn.value, ctx.undefined, errHandle);
  fn.value?.dispose();
  errHandle.dispose();
  if (r.error) {
    r.error.dispose();
    return overBudget() ? { reason: 'codec_timeout', message: `codec ran longer than ${cpuMs} ms` } : { reason: 'codec_memory', message: 'no memory left to report the error' };
  }
  const text = ctx.typeof(r.value) === 'string' ? ctx.getString(r.value).slice(0, 300) : 'a non-error value was thrown';
  r.value.dispose();
  const reason = classify(text);
  return { reason, message: reason === 'codec_timeout' ? `codec ran longer than ${cpuMs} ms` : `${prefix}${text}` };
}

const NO_DECODE = { reason: 'codec_error', message: 'codec defines no decodeUplink(input) function' };

/** Everything allocated for one call lives in one context that is thrown away afterwards. */
function decode(job) {
  if (!runtime || calls++ >= RECYCLE_AFTER) freshRuntime();
  startClock();
  const ctx = runtime.newContext({ intrinsics: INTRINSICS[job.features & 7] });
  const held = [];
  try {
    const top = ctx.evalCode(job.source, 'js-codec.js');
    if (top.error) return explain(ctx, top.error, 'codec does not load: ');
    top.value.dispose();
    if (job.input === undefined) {
      const t = ctx.evalCode('typeof decodeUplink', 'js-codec-check.js');
      if (t.error) return explain(ctx, t.error, 'codec does not load: ');
      held.push(t.value);
      return ctx.typeof(t.value) === 'string' && ctx.getString(t.value) === 'function' ? { json: 'null' } : NO_DECODE;
    }
    const call = ctx.evalCode(CALL, 'js-codec-call.js');
    if (call.error) return explain(ctx, call.error, 'codec threw: ');
    held.push(call.value);
    const arg = ctx.newString(job.input);
    held.push(arg);
    const r = ctx.callFunction(call.value, ctx.undefined, arg);
    if (r.error) return explain(ctx, r.error, 'codec threw: ');
    held.push(r.value);
    if (ctx.typeof(r.value) === 'string') return { json: ctx.getString(r.value) };
    const n = ctx.getNumber(r.value);
    if (n === 0) return NO_DECODE;
    if (n === -1) return { reason: 'codec_error', message: 'decodeUplink returned nothing' };
    return { reason: 'codec_error', message: `output of ${n} characters exceeds ${maxOutputChars}` };
  } finally {
    for (const h of held) if (h.alive) h.dispose();
    ctx.dispose();
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
    parentPort.postMessage({ id: job.id, reason: /memory|abort|unreachable/i.test(message) ? 'codec_memory' : 'codec_error', message: `codec sandbox failed: ${message.slice(0, 200)}`, fatal: true });
    return;
  }
  if (out.reason && out.reason !== 'codec_error') freshRuntime(); // after a limit was hit, start clean
  parentPort.postMessage({ id: job.id, ...out });
});
// The first call in a fresh instance compiles the WebAssembly code it touches: pay that before taking work.
decode({ id: 0, features: 7, source: 'function decodeUplink(input) { return { data: { a: [input.fPort, input.recvTime.getTime()].join() } }; }', input: '{"bytes":[],"fPort":1,"recvTime":0}' });
// The main thread's watchdog reads this thread's CPU clock too: tell it which thread this is (Linux).
let thread;
try {
  thread = fs.readlinkSync('/proc/thread-self');
  // Codec work yields to the main thread (HTTP, MQTT, alarms) when the CPU is short: on Linux a thread's
  // nice value is its own, so this lowers only this worker.
  os.setPriority(Number(thread.split('/').pop()), 5); // nice 5: a third of the main thread's share
} catch {}
parentPort.postMessage({ ready: true, thread });
