// A real Regenwacht as a child process in its own process group (so `kill -9` reaches tsx and the node
// process it starts), as test/e2e/crash.test.ts starts it. For failover tests of several instances.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Spawned {
  proc: ChildProcess;
  http: string;
  token: string;
  /** everything the process printed */
  output(): string;
  api<T = any>(method: string, p: string, body?: unknown): Promise<T>;
  readyz(): Promise<{ status: number; body: any }>;
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the ms until the process exited (SIGKILL after 15 s) */
  stop(): Promise<number>;
  alive(): boolean;
}

export async function spawnInstance(env: Record<string, string>, name = 'rw'): Promise<Spawned> {
  const proc = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['services/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TMPDIR: os.tmpdir(), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} not ready in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (/Regenwacht ready/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${name} exited with ${code}:\n${out}`));
    });
  });
  const http = `http://127.0.0.1:${env.HTTP_PORT}`;
  const token = env.ADMIN_TOKEN;
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    http,
    token,
    output: () => out,
    alive,
    async api(method, p, body) {
      const r = await fetch(http + p, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const j = await r.json().catch(() => null);
      if (r.status >= 300) throw new Error(`${name}: ${method} ${p} -> ${r.status} ${JSON.stringify(j)}`);
      return j;
    },
    async readyz() {
      const r = await fetch(`${http}/readyz`, { signal: AbortSignal.timeout(3000) });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    async kill9() {
      if (!alive()) return;
      process.kill(-proc.pid!, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (!alive()) return 0;
      const t0 = Date.now();
      process.kill(-proc.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (alive()) process.kill(-proc.pid!, 'SIGKILL');
      await exited;
      return Date.now() - t0;
    },
  };
}
