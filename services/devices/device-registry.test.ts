// The device cache while the configuration sync reloads it (services/config-sync.ts): a device created through
// this process while the reload's read runs on another connection stays known — its uplinks are not refused
// as unknown until the next sync.
import { describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../db/db.ts';
import { DeviceRegistry } from './device-registry.ts';

/** A database whose reads outside a transaction answer only when the test says, with the rows of that moment. */
function heldDb() {
  const rows: Record<string, unknown>[] = [];
  const held: Array<() => void> = [];
  const tx = {
    query: (async (_sql: string, params: unknown[]) => {
      const [id, name, model, dev_eui, location, p, tags, org, pub] = params;
      const row = { id, name, model, dev_eui, location, params: JSON.parse(p as string), tags: JSON.parse(tags as string), org, public: pub };
      const now = new Date();
      rows.push({ ...row, created_at: now, updated_at: now });
      return { rows: [rows.at(-1)], rowCount: 1 };
    }) as Queryable['query'],
  } as unknown as Queryable;
  const db = {
    kind: 'pg',
    timescale: false,
    // the snapshot is taken when the read starts; the answer comes when the test releases it
    query: (() => {
      const snapshot = [...rows];
      return new Promise((ok) => held.push(() => ok({ rows: snapshot, rowCount: snapshot.length })));
    }) as unknown as Queryable['query'],
    transaction: (fn: (t: Queryable) => Promise<unknown>) => fn(tx),
    ping: async () => true,
    close: async () => {},
  } as unknown as Db;
  return { db, release: () => held.splice(0).forEach((r) => r()) };
}

describe('the device registry reloaded while a device is created', () => {
  it('keeps the device created while the reload read the table', async () => {
    const { db, release } = heldDb();
    const reg = new DeviceRegistry(db);
    let done = false;
    const reload = reg.reload().then(() => (done = true)); // its read sees the table before the device exists
    await reg.create({ id: 'g1', name: 'Pegel', model: 'generic', devEui: null, location: null, params: {}, tags: {} });
    expect(reg.get('g1')).toBeDefined();
    // the stale answer arrives after the create; whatever the reload reads next is answered at once
    for (let i = 0; i < 10 && !done; i++) {
      release();
      await new Promise((r) => setImmediate(r));
    }
    await reload;
    expect(reg.get('g1')?.name, 'the device created during the reload').toBe('Pegel');
    expect(reg.size).toBe(1);
  });
});
