// npx tsx bench/dwd-worker.ts [--from src|dist] [--runs 3] [--idle 20]: the DWD fetch worker thread alone, reading
// an empty drop folder (a warnings-only thread, no radar): how long a new thread takes to its first snapshot
// (what a crashed thread's restart costs), and how much RSS one thread adds to a bare process after `--idle`
// seconds. `--from dist` needs `npm run build`. [docs/benchmarks.md Memory, sixth session]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values: a } = parseArgs({
  options: { from: { type: 'string', default: 'src' }, runs: { type: 'string', default: '3' }, idle: { type: 'string', default: '20' } },
});
const root = path.resolve(import.meta.dirname, '..', a.from === 'dist' ? 'dist/services/dwd' : 'services/dwd');
const boot = new URL(`file://${path.join(root, 'fetch-worker-boot.mjs')}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-dwd-bench-'));
const workerData = { cap: { mode: 'folder', url: '', dir, intervalMs: 1000, active: false }, limits: { timeoutMs: 1000, retries: 0, backoffMs: 100 } };
const mb = (b: number) => Math.round(b / 1048576);

function firstSnapshot(w: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    w.on('message', (m: { type: string }) => m.type === 'warnings' && resolve());
    w.on('error', reject);
  });
}

try {
  const before = process.memoryUsage().rss;
  const w = new Worker(boot, { workerData, execArgv: [] });
  await firstSnapshot(w);
  await new Promise((r) => setTimeout(r, Number(a.idle) * 1000));
  const after = process.memoryUsage().rss;
  await w.terminate();
  const bootMs: number[] = [];
  for (let i = 0; i < Number(a.runs); i++) {
    const t0 = performance.now();
    const w = new Worker(boot, { workerData, execArgv: [] });
    await firstSnapshot(w);
    bootMs.push(Math.round(performance.now() - t0));
    await w.terminate();
  }
  console.log(
    JSON.stringify({
      from: a.from,
      rss_mb_without: mb(before),
      rss_mb_with_thread: mb(after),
      idle_s: Number(a.idle),
      boot_to_first_snapshot_ms: bootMs,
      loadavg: os.loadavg(),
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
