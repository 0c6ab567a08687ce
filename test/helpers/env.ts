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

/** A fresh, empty PostgreSQL database for one test file; dropped by the returned function. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  if (!TEST_DATABASE_URL) return undefined;
  const name = `rw_t_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
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
