// The DWD fetch worker thread exists only while it has work: none for an installation without a warncell or
// catchment, started with the first, ended again once nothing is left to fetch; one that dies is started again
// and counted as restarted once it is up. [docs/dwd.md Fetching]
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DwdWorker } from './dwd-worker.ts';
import type { FromWorker, WorkerConfig } from './worker-protocol.ts';

const log = pino({ level: 'silent' });
const limits = { timeoutMs: 2000, retries: 0, backoffMs: 100 };
const wait = { timeout: 60_000, interval: 50 };

/** a loopback port nobody listens on: a fetch there fails at once */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('DWD fetch worker thread', () => {
  const workers: DwdWorker[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('no warncell, no catchment: no thread; the first warncell starts it, and it ends again once none is left', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/cap.zip`;
    const config: WorkerConfig = { cap: { mode: 'http', url, dir: '', intervalMs: 3600_000, active: false }, limits };
    const seen: FromWorker[] = [];
    const w = new DwdWorker(config, (m) => seen.push(m), log, 256, 200);
    workers.push(w);
    w.start();
    expect(w.running).toBe(false);

    w.post({ type: 'cap-active', active: true }); // a municipality got a warncell
    expect(w.running).toBe(true);
    await vi.waitFor(() => expect(seen.some((m) => m.type === 'error' && m.source === 'cap')).toBe(true), wait); // it fetched

    w.post({ type: 'cap-active', active: false }); // no warncell left
    await vi.waitFor(() => expect(w.running).toBe(false), wait);
    expect(w.restarts).toBe(0); // ended on purpose, not a crash

    seen.length = 0;
    w.post({ type: 'cap-active', active: true });
    expect(w.running).toBe(true);
    await vi.waitFor(() => expect(seen.some((m) => m.type === 'error')).toBe(true), wait);
    expect(w.starts).toBe(2);
  }, 120_000);

  it('a thread that dies is started again, counted once it is up, and reads the folder again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-dwd-worker-'));
    dirs.push(dir);
    const config: WorkerConfig = { cap: { mode: 'folder', url: '', dir, intervalMs: 200, active: false }, limits };
    const seen: FromWorker[] = [];
    const w = new DwdWorker(config, (m) => seen.push(m), log, 256, 200);
    workers.push(w);
    w.start();
    expect(w.running).toBe(true); // a drop folder is work from the start
    await vi.waitFor(() => expect(seen.some((m) => m.type === 'warnings')).toBe(true), wait);

    await w.kill();
    seen.length = 0;
    await vi.waitFor(() => expect(w.restarts).toBe(1), wait);
    // a new thread knows no earlier snapshot: it reports the folder's content again
    await vi.waitFor(() => expect(seen.some((m) => m.type === 'warnings')).toBe(true), wait);
    expect(w.running).toBe(true);
    expect(w.starts).toBe(2);
  }, 120_000);
});
