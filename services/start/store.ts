// Step 2: open the store (embedded PGlite or PostgreSQL), migrate it and load what every role needs.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { MqttCredentialStore } from '../auth/mqtt-credential-store.ts';
import { TokenStore } from '../auth/token-store.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { createPgDb } from '../db/pg-driver.ts';
import { createPgliteDb } from '../db/pglite-driver.ts';
import { usableTemplate } from '../db/pglite-template.ts';
import { DeviceRegistry } from '../devices/device-registry.ts';
import { CodecSandbox } from '../ingest/codecs/codec-sandbox.ts';
import type { Stops } from './stops.ts';
import { waitForDatabase } from './wait-for-database.ts';

export interface Store {
  db: Db;
  tokens: TokenStore;
  admin: { token: string; source: string };
  credentials: MqttCredentialStore;
  devices: DeviceRegistry;
  codecSandbox: CodecSandbox;
}

export async function openStore(config: Readonly<Config>, log: Logger, stops: Stops, dbWaitMs: number): Promise<Store> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const db: Db = config.databaseUrl
    ? createPgDb(config.databaseUrl, { onError: (e) => log.warn({ err: e.message }, 'database connection error') })
    : await createPgliteDb(config.dataDir, { progress: (m) => log.info(m), template: usableTemplate(), sharedBuffersMb: config.embeddedSharedBuffersMb });
  stops.push(() => db.close());
  if (config.databaseUrl) await waitForDatabase(db, config.databaseUrl, dbWaitMs, log);
  await migrate(db, { log: (m) => log.info(m) });
  log.info({ driver: db.kind, timescale: db.timescale }, 'database ready');

  const tokens = new TokenStore(db);
  const admin = await tokens.ensureAdmin(config.dataDir, config.adminToken);
  const credentials = new MqttCredentialStore(db);
  await credentials.load();
  const devices = new DeviceRegistry(db);
  await devices.load();
  const codecSandbox = new CodecSandbox({}, log.child({ component: 'codec-sandbox' }));
  stops.push(() => codecSandbox.close());
  return { db, tokens, admin, credentials, devices, codecSandbox };
}
