// The production image, without Docker: the Dockerfile's stages are laid out in a temporary folder as its
// COPY and RUN lines say (build with tsc, then package files, `npm ci --omit=dev`, dist and only what the final
// stage copies; the build keeps the repository's embedded-database template when its stamp matches, see
// seedTemplate in test/helpers/dockerfile.ts), and its CMD is started there on the embedded store and on PostgreSQL: /readyz, one MQTT
// uplink stored and readable through the API, SIGTERM ends it cleanly. The server must write nothing into the
// application folder (in the image it belongs to root; the `node` user owns only /data).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_DIR } from '../../services/db/pglite-template.ts';
import { PACKAGE_ROOT } from '../../services/package-root.ts';
import { copies, envOf, lastOf, layOut, parseDockerfile, type Stage } from '../helpers/dockerfile.ts';
import { freePort, freshPgDatabase, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../helpers/env.ts';

const ROOT = PACKAGE_ROOT;
const stages: Stage[] = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const final = stages[stages.length - 1];

describe('Dockerfile', () => {
  it('every COPY names a path that exists (in the repository, or in an earlier stage)', () => {
    const names = new Set(stages.map((s) => s.name).filter(Boolean));
    const ignored = fs
      .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const problems: string[] = [];
    for (const s of stages)
      for (const c of copies(s)) {
        if (c.from) {
          if (!names.has(c.from)) problems.push(`line ${c.line}: no stage named '${c.from}'`);
          continue;
        }
        for (const src of c.sources) {
          if (!fs.existsSync(path.join(ROOT, src))) problems.push(`line ${c.line}: ${src} does not exist`);
          if (ignored.includes(src.split('/')[0])) problems.push(`line ${c.line}: ${src} is excluded by .dockerignore`);
        }
      }
    expect(problems).toEqual([]);
  });

  it('runs as the unprivileged node user, which owns only /data; the build context leaves out local state', () => {
    expect(lastOf(final, 'USER')).toBe('node');
    const runs = final.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /chown node:node \/data$/.test(r))).toBe(true);
    expect(runs.filter((r) => /chown/.test(r))).toHaveLength(1);
    expect(final.instructions.filter((i) => i.op === 'COPY' && i.args.includes('--chown'))).toEqual([]);
    expect(envOf(final).DATA_DIR).toBe('/data');
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'data', '.git']) expect(ignored, p).toContain(p);
  });
});

interface Started {
  proc: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

function start(cwd: string, env: Record<string, string>): Started {
  const cmd = JSON.parse(lastOf(final, 'CMD') ?? '[]') as string[];
  expect(cmd[0]).toBe('node');
  const proc = spawn(process.execPath, cmd.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, exit };
}

async function waitReady(http: string, s: Started, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  s.exit.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    const ok = await fetch(`${http}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${exited ? 'exited' : 'not ready'} before /readyz answered 200:\n${s.out()}`);
}

/** Every file under dir except node_modules, for "the server wrote nothing here". */
function listing(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.startsWith('node_modules')).sort();
}

const pgWanted = REQUIRE_EXTERNAL || !!TEST_DATABASE_URL;

describe('the production build, laid out as the Dockerfile does', () => {
  let tmp: string;
  let app: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-image-'));
    const dirs = layOut(stages, ROOT, path.join(tmp, 'stages'), { linkNodeModules: path.join(ROOT, 'node_modules'), seedTemplate: TEMPLATE_DIR });
    app = dirs[dirs.length - 1];
  }, 600_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds the compiled server and only what the final stage copies', () => {
    expect(fs.existsSync(path.join(app, 'dist/services/main.js'))).toBe(true);
    const top = fs.readdirSync(app).sort();
    const copied = copies(final).flatMap((c) =>
      c.sources.length > 1 || c.dest.endsWith('/') ? c.sources.map((s) => path.basename(s)) : [path.posix.normalize(c.dest).split('/')[0]],
    );
    expect(top).toEqual([...new Set([...copied, 'node_modules'])].sort());
  });

  it('starts on the embedded store, stores an MQTT uplink, stops on SIGTERM', () => startAndIngest(false), 240_000);
  it.skipIf(!pgWanted)('starts on PostgreSQL, stores an MQTT uplink, stops on SIGTERM', () => startAndIngest(true), 240_000);

  async function startAndIngest(usePg: boolean) {
    const db = usePg ? await freshPgDatabase() : undefined;
    const dataDir = path.join(tmp, `data-${usePg ? 'pg' : 'embedded'}`);
    fs.mkdirSync(dataDir);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const token = crypto.randomBytes(24).toString('hex');
    const before = listing(app);
    const s = start(app, {
      PATH: process.env.PATH ?? '',
      TMPDIR: os.tmpdir(),
      ...envOf(final),
      DATA_DIR: dataDir,
      BIND_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      ADMIN_TOKEN: token,
      LOG_LEVEL: 'warn',
      ...(db ? { DATABASE_URL: db.url } : {}),
    });
    const http = `http://127.0.0.1:${httpPort}`;
    try {
      await waitReady(http, s, 180_000);
      const api = async (method: string, p: string, body?: unknown) => {
        const r = await fetch(http + p, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const j = await r.json();
        if (r.status >= 300) throw new Error(`${method} ${p} -> ${r.status} ${JSON.stringify(j)}`);
        return j;
      };
      await api('POST', '/api/v1/devices', { id: 'img-gauge', name: 'Image gauge', model: 'generic' });
      const cred = await api('POST', '/api/v1/mqtt-credentials', { username: 'img-gauge', publish: ['devices/img-gauge/up'] });
      const c = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { username: cred.username, password: cred.password, reconnectPeriod: 0 });
      await new Promise((res, rej) => {
        c.once('connect', res);
        c.once('error', rej);
      });
      const time = new Date(Date.now() - 60_000).toISOString();
      await c.publishAsync('devices/img-gauge/up', JSON.stringify({ time, readings: { rain_mm: 1.4 } }), { qos: 1 });
      await c.endAsync();
      const r = await api(
        'GET',
        `/api/v1/devices/img-gauge/readings?metric=rain_mm&from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`,
      );
      expect(r.points).toEqual([{ time, value: 1.4 }]);

      // an uploaded codec is loaded in the sandbox's worker threads, whose script is read at run time too
      await api('POST', '/api/v1/codecs', {
        id: 'img-codec',
        fieldMap: { distance_mm: 'distance' },
        source: 'function decodeUplink(input){return {data:{distance:(input.bytes[0]<<8)|input.bytes[1]}}}',
      });

      // the web console's own files, read at run time like the migrations
      const css = await fetch(`${http}/assets/app/app.css`);
      expect(css.status).toBe(200);
      expect(await fetch(`${http}/login`).then((x) => x.status)).toBe(200);
      if (usePg) {
        // README: user accounts in the image come from the compiled CLI (the server keeps running on PostgreSQL)
        const u = spawnSync(process.execPath, ['dist/services/web/user-cli.js', 'add', 'img-user', '--role', 'viewer'], {
          cwd: app,
          env: {
            PATH: process.env.PATH ?? '',
            TMPDIR: os.tmpdir(),
            ...envOf(final),
            DATA_DIR: dataDir,
            DATABASE_URL: db!.url,
            RW_PASSWORD: 'image-test-password-1',
          },
          encoding: 'utf8',
        });
        expect(u.status, u.stderr + u.stdout).toBe(0);
      }

      s.proc.kill('SIGTERM');
      expect(await s.exit, s.out()).toBe(0);
      expect(s.out()).toMatch(/SIGTERM, shutting down/);
      expect(listing(app), 'files the server wrote into the application folder').toEqual(before);
    } finally {
      if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
      await s.exit;
      await db?.drop().catch(() => {});
    }
  }
});
