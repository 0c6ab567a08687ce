import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { freePort, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../test/helpers/env.ts';
import { startRegenwacht } from './app.ts';
import { usableTemplate } from './db/pglite-template.ts';
import { StartError } from './start-checks.ts';

describe('start with PostgreSQL unreachable', () => {
  it('waits, then names the database (never its password) and what to check', async () => {
    const port = await freePort(); // nothing listens there
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-nodb-'));
    const t0 = Date.now();
    const err = await startRegenwacht(
      { dataDir, httpPort: 0, mqttPort: 0, databaseUrl: `postgres://rw:s3cret-pw@127.0.0.1:${port}/regenwacht`, dbWaitMs: 1500, env: {} },
      pino({ level: 'silent' }),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400); // it did wait
    expect(err?.message).toMatch(
      new RegExp(`cannot reach the database at 127\\.0\\.0\\.1:${port}/regenwacht \\(ECONNREFUSED\\) after 2 s; check DATABASE_URL`),
    );
    expect(err?.message).not.toContain('s3cret-pw');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

/** Holds a port the way another program would. */
async function occupy(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

describe('a start that cannot succeed says why before anything else starts', () => {
  it.each(['HTTP', 'MQTT'] as const)('%s port taken: reported, and the database was never opened', async (what) => {
    const taken = await occupy();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-port-'));
    try {
      const ports = what === 'HTTP' ? { httpPort: taken.port, mqttPort: 0 } : { httpPort: 0, mqttPort: taken.port };
      const err = await startRegenwacht({ dataDir, ...ports, env: {} }, pino({ level: 'silent' })).then(
        () => undefined,
        (e: StartError) => e,
      );
      expect(err).toBeInstanceOf(StartError);
      expect(err?.code).toBe('PORT_IN_USE');
      expect(err?.message).toBe(
        `${what} port ${taken.port} on 127.0.0.1 is already in use; choose another with ${what}_PORT=<port> (0 = any free port)${what === 'MQTT' ? ' or MQTT_PORT=off' : ''}`,
      );
      expect(fs.existsSync(path.join(dataDir, 'pg')), 'embedded database created').toBe(false);
    } finally {
      await taken.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('npm start prints the one reason and nothing else (no log lines of a start that never happened)', async () => {
    const taken = await occupy();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-port-'));
    try {
      const root = path.resolve(import.meta.dirname, '..');
      const p = spawn(path.join(root, 'node_modules/.bin/tsx'), ['services/main.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', TMPDIR: os.tmpdir(), DATA_DIR: dataDir, HTTP_PORT: String(taken.port), MQTT_PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => p.once('exit', r));
      expect(code).toBe(1);
      expect(out.trim().split('\n')).toEqual([
        `Regenwacht: HTTP port ${taken.port} on 127.0.0.1 is already in use; choose another with HTTP_PORT=<port> (0 = any free port) [PORT_IN_USE, see docs/errors.md]`,
      ]);
    } finally {
      await taken.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  const pgWanted = REQUIRE_EXTERNAL || !!TEST_DATABASE_URL;
  it.skipIf(!pgWanted).each([
    ['a database that does not exist', (u: URL) => void (u.pathname = '/rw_no_such_database'), 'the database does not exist'],
    ['a role that does not exist', (u: URL) => void (u.username = 'rw_no_such_role'), 'the role may not log in from here or does not exist'],
  ])('%s: fails at once with PostgreSQL’s reason instead of waiting', async (_name, change, reason) => {
    const u = new URL(TEST_DATABASE_URL!);
    change(u);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-refused-'));
    try {
      // a 60 s wait would outlast the test's time limit
      const err = await startRegenwacht(
        { dataDir, httpPort: 0, mqttPort: 0, databaseUrl: u.toString(), dbWaitMs: 60_000, env: {} },
        pino({ level: 'silent' }),
      ).then(
        () => undefined,
        (e: StartError) => e,
      );
      expect(err?.code).toBe('DATABASE_REFUSED');
      expect(err?.message).toContain(`the database at ${u.hostname}:${u.port || 5432}${u.pathname} refused the connection: ${reason}`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.runIf(REQUIRE_EXTERNAL || !!TEST_DATABASE_URL)('npm start against a PostgreSQL that refuses', () => {
  it('prints PostgreSQL’s reason as its only line, at once, and exits 1 (nothing of the engine started)', async () => {
    const u = new URL(TEST_DATABASE_URL!);
    u.pathname = '/rw_no_such_database';
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-refused-'));
    try {
      const root = path.resolve(import.meta.dirname, '..');
      const p = spawn(path.join(root, 'node_modules/.bin/tsx'), ['services/main.ts'], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          TMPDIR: os.tmpdir(),
          DATA_DIR: dataDir,
          DATABASE_URL: u.toString(),
          HTTP_PORT: '0',
          MQTT_PORT: '0',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => p.once('exit', r));
      expect(code).toBe(1);
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^Regenwacht: the database at .*\/rw_no_such_database refused the connection: the database does not exist \(.*SQLSTATE 3D000\); check DATABASE_URL \[DATABASE_REFUSED, see docs\/errors\.md\]$/,
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('npm start on the embedded store', () => {
  it('says it is creating the database on the first start only; PUBLIC_URL unset names the real address', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-first-'));
    const start = async () => {
      const lines: string[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
      const r = await startRegenwacht({ dataDir, httpPort: 0, mqttPort: 0, env: {} }, log);
      return { r, lines };
    };
    try {
      const first = await start();
      try {
        const at = (m: RegExp) => first.lines.findIndex((l) => m.test(l));
        if (usableTemplate()) {
          // `npm ci` / `npm run build` made dist/pglite-template: copied, with every migration already applied
          expect(at(/^creating the embedded database in .*pg from the prepared template \(first start only\)$/)).toBe(0);
          expect(at(/^embedded database created in \d+\.\d s$/)).toBeGreaterThan(0);
          expect(at(/^applied migration/)).toBe(-1);
        } else {
          expect(at(/^creating the embedded database in .*pg \(first start only, takes a while\)$/)).toBe(0);
          expect(at(/^embedded database created in \d+\.\d s; creating the tables$/)).toBeGreaterThan(0);
          expect(at(/^applied migration 001_/)).toBeGreaterThan(at(/^embedded database created/));
        }
        // links in messages and CAP documents name the address the API really listens on (HTTP_PORT=0)
        expect(first.r.config.publicUrl).toBe(first.r.httpUrl);
        const feed = await fetch(`${first.r.httpUrl}/api/v1/cap/alerts.atom`, { headers: { authorization: `Bearer ${first.r.adminToken}` } });
        expect(await feed.text()).toContain(`${first.r.httpUrl}/api/v1/cap/alerts.atom`);
      } finally {
        await first.r.stop();
      }
      const later = await start();
      await later.r.stop();
      expect(later.lines.filter((l) => /embedded database/.test(l))).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
