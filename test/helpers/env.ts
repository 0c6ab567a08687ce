// Where the tests find real services. [README.md npm test]
// TEST_DATABASE_URL / TEST_MQTT_URL when set, embedded ones otherwise; with REQUIRE_EXTERNAL_SERVICES=1
// a missing or unreachable service is a failure, not a silent fallback.
import crypto from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

export const REQUIRE_EXTERNAL = process.env.REQUIRE_EXTERNAL_SERVICES === '1';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const TEST_MQTT_URL = process.env.TEST_MQTT_URL;

if (REQUIRE_EXTERNAL && (!TEST_DATABASE_URL || !TEST_MQTT_URL)) {
  throw new Error('REQUIRE_EXTERNAL_SERVICES=1 but TEST_DATABASE_URL or TEST_MQTT_URL is not set');
}

/** Names this run's databases, so the run's end (test/global-setup.ts) can drop any a test did not. */
const ownRun = crypto.randomBytes(3).toString('hex');
const runDbPrefix = () => `rw_t_${(process.env.RW_TEST_RUN ?? ownRun).toLowerCase().replace(/[^a-z0-9]/g, '')}_`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const urlOf = (name: string) => {
  const u = new URL(TEST_DATABASE_URL!);
  u.pathname = `/${name}`;
  return u.toString();
};

let template: Promise<string> | undefined;
/** A database with every migration applied, made once per set of migrations (its name is their hash) and kept:
 *  new test databases are copies of it, so a test file does not run the migrations again. */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const { readMigrations, migrate } = await import('../../services/db/migrate.ts');
    const { createPgDb } = await import('../../services/db/pg-driver.ts');
    const hash = crypto.createHash('sha256');
    for (const m of readMigrations()) hash.update(`${m.name}\0${m.checksum}\0`);
    const name = `rw_tpl_${hash.digest('hex').slice(0, 16)}`;
    const exists = (c: pg.Client) => c.query('select 1 from pg_database where datname = $1', [name]).then((r) => (r.rowCount ?? 0) > 0);
    if (await admin(exists)) return name;
    // built under a temporary name and renamed when complete, so a half-made template is never copied
    const building = `${name}_b${crypto.randomBytes(3).toString('hex')}`;
    await admin((c) => c.query(`create database ${building}`));
    const db = createPgDb(urlOf(building), { max: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    await admin(async (c) => {
      // another worker may have finished the same template first
      if (await exists(c)) await c.query(`drop database ${building}`);
      else await c.query(`alter database ${building} rename to ${name}`).catch(() => c.query(`drop database ${building}`));
    });
    return name;
  })();
  template.catch(() => {
    template = undefined;
  });
  return template;
}

/** A fresh PostgreSQL database for one test file: empty, or with `migrated` a copy of the migrated template
 *  (what a started Regenwacht would make of an empty one). `drop` removes it. */
export async function freshPgDatabase(o: { migrated?: boolean } = {}): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  if (!TEST_DATABASE_URL) return undefined;
  const name = `${runDbPrefix()}${crypto.randomBytes(5).toString('hex')}`;
  const from = o.migrated ? await migratedTemplate() : undefined;
  await admin(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database ${name}${from ? ` template ${from}` : ''}`);
        return;
      } catch (e) {
        // "source database is being accessed by other users": another worker copying it at the same instant
        if (!from || attempt >= 20 || (e as { code?: string }).code !== '55006') throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      }
    }
  });
  return { url: urlOf(name), drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}) };
}

/** Drops the databases of this run that are still there (called once at the end of the run). */
export async function dropRunDatabases(): Promise<string[]> {
  if (!TEST_DATABASE_URL) return [];
  return admin(async (c) => {
    const r = await c.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [runDbPrefix()]);
    for (const { datname } of r.rows) await c.query(`drop database if exists ${datname} with (force)`);
    return r.rows.map((x) => x.datname);
  });
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}
