// A Regenwacht server as a child process (node with tsx as a loader), for tests that kill it with SIGKILL,
// and a plain receiver that can come up later on a fixed port.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { json, type TestServer } from '../../services/notify/test-server.ts';
import { freshPgDatabase } from './env.ts';
import { waitFor } from './system.ts';

export const TOKEN = 'crash-test-admin-token-0123456789';

export interface Proc {
  child: ChildProcess;
  http: string;
  mqtt: string;
  api<T = any>(method: string, p: string, body?: unknown): Promise<T>;
}

export async function spawnServer(env: Record<string, string>): Promise<Proc> {
  // node itself with tsx as a loader: the tsx CLI would put a wrapper process in between, and SIGKILL on
  // the wrapper leaves the server running
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
    env: { PATH: process.env.PATH, TMPDIR: os.tmpdir(), HTTP_PORT: '0', MQTT_PORT: '0', ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const urls = await waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited: ${out}`);
      const h = /HTTP API:\s+(http:\/\/\S+)/.exec(out);
      const m = /MQTT broker:\s+(mqtt:\/\/\S+)/.exec(out);
      return h && m && { http: h[1], mqtt: m[1] };
    },
    30_000,
    'server start',
  );
  return {
    child,
    ...urls,
    async api(method, p, body) {
      const res = await fetch(urls.http + p, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const j = await res.json().catch(() => undefined);
      if (res.status >= 300) throw new Error(`${method} ${p} -> ${res.status} ${JSON.stringify(j)}`);
      return j;
    },
  };
}

export async function listenOn(port: number): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req
      .on('data', (d) => (body += d))
      .on('end', () => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        json(res, 200, { ok: true });
      });
  });
  await new Promise<void>((ok) => srv.listen(port, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        srv.closeAllConnections();
        srv.close(() => ok());
      }),
  };
}

export const kill9 = (p: Proc) =>
  new Promise<void>((res) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return res();
    p.child.once('exit', () => res());
    p.child.kill('SIGKILL');
  });

/**
 * What a kill -9 test keeps beside its child servers: one DATA_DIR for both lives, the PostgreSQL database
 * on the `pg` store, the receivers that come up later. Everything is killed, closed and removed after the file.
 */
export function crashRun(store: 'pglite' | 'pg', prefix: string) {
  const run = {
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), prefix)),
    procs: [] as Proc[],
    receivers: [] as TestServer[],
    db: undefined as Awaited<ReturnType<typeof freshPgDatabase>> | undefined,
    /** A receiver on `port` (the one a route names), closed after the file. */
    async listen(port: number): Promise<TestServer> {
      const rx = await listenOn(port);
      run.receivers.push(rx);
      return rx;
    },
    /** The environment both lives of the server share (creates the database on the `pg` store). */
    async env(): Promise<Record<string, string>> {
      if (store === 'pg') run.db ??= await freshPgDatabase();
      return { DATA_DIR: run.dataDir, ...(run.db ? { DATABASE_URL: run.db.url } : {}) };
    },
  };
  afterAll(async () => {
    for (const p of run.procs) await kill9(p);
    for (const rx of run.receivers) await rx.close();
    await run.db?.drop().catch(() => {});
    fs.rmSync(run.dataDir, { recursive: true, force: true });
  });
  return run;
}
