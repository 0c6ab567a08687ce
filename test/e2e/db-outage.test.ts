// [docs/guarantees.md] With the database unreachable, ingestion acknowledges nothing it has not stored, and catches
// up by itself when the database returns. The database sits behind a TCP proxy the test can cut.
import crypto from 'node:crypto';
import net from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgDatabase, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../helpers/env.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return client.destroy(); // refuse while cut
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        cut() {
          down = true;
          for (const s of sockets) s.destroy();
        },
        restore() {
          down = false;
        },
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}

describe.runIf(REQUIRE_EXTERNAL || !!TEST_DATABASE_URL)('PostgreSQL outage under publish load', () => {
  let s: TestSystem;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await freshPgDatabase();
    if (!db) throw new Error('TEST_DATABASE_URL not set');
    drop = db.drop;
    const u = new URL(db.url);
    proxy = await startProxy({ host: u.hostname, port: Number(u.port || 5432) });
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    s = await startSystem({ store: 'pg', databaseUrl: u.toString() });
    await s.ok('POST', '/api/v1/devices', { id: 'outage-1', name: 'Pegel', model: 'generic' });
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await drop?.().catch(() => {});
  });

  it('holds PUBACKs during the outage, loses nothing, and catches up by itself', { timeout: 60_000 }, async () => {
    const cred = await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'outage', publish: ['devices/outage-1/up'] });
    // A persistent session that resends unacknowledged QoS 1 publishes if the broker drops it.
    const c = mqtt.connect(s.mqttUrl!, {
      username: cred.username,
      password: cred.password,
      clientId: `outage-${crypto.randomBytes(3).toString('hex')}`,
      clean: false,
      reconnectPeriod: 300,
    });
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));

    const t0 = Date.now() - 600_000;
    const sentAt = new Map<number, number>();
    const ackAt = new Map<number, number>();
    let i = 0;
    const timer = setInterval(() => {
      const time = t0 + i++ * 100;
      sentAt.set(time, Date.now());
      c.publish('devices/outage-1/up', JSON.stringify({ time: new Date(time).toISOString(), readings: { level_cm: i } }), { qos: 1 }, (err) => {
        if (!err) ackAt.set(time, Date.now());
      });
    }, 10);

    await new Promise((r) => setTimeout(r, 1000));
    expect(ackAt.size).toBeGreaterThan(20); // flowing before the cut
    proxy.cut();
    const cutAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const readyDuring = await fetch(`${s.httpUrl}/readyz`);
    // an API read that needs the database says so with the catalogue's code (docs/errors.md), not a 500
    const readDuring = await s.api('GET', '/api/v1/devices/outage-1/readings?metric=level_cm');
    await new Promise((r) => setTimeout(r, 1500));
    const restoredAt = Date.now();
    proxy.restore();
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(timer);
    const sent = sentAt.size;

    expect(readyDuring.status).toBe(503);
    expect(readDuring.status).toBe(503);
    expect(readDuring.body).toEqual({ error: { code: 'UNAVAILABLE', message: 'the database does not answer; try again shortly' } });
    // Nothing published during the outage was acknowledged before the database came back.
    const early = [...sentAt].filter(([t, at]) => at >= cutAt && at < restoredAt && (ackAt.get(t) ?? Number.POSITIVE_INFINITY) < restoredAt);
    expect(early.length, `${early.length} uplinks acknowledged while the database was cut`).toBe(0);
    // No acknowledgement at all arrived in the middle of the outage (grace for commits at the instant of the cut).
    expect([...ackAt.values()].filter((at) => at > cutAt + 250 && at < restoredAt)).toEqual([]);

    // Catches up by itself: every publish acknowledged, every reading stored exactly once.
    await waitFor(() => ackAt.size === sent, 30_000, `all ${sent} publishes acknowledged (have ${ackAt.size})`);
    c.end(true);
    const r = await s.ok('GET', `/api/v1/devices/outage-1/readings?metric=level_cm&from=${new Date(t0 - 1000).toISOString()}&limit=100000`);
    const times = r.points.map((p: { time: string }) => Date.parse(p.time));
    expect(new Set(times).size).toBe(times.length);
    const missing = [...sentAt.keys()].filter((t) => !times.includes(t));
    expect(missing.length, `${missing.length} of ${sent} published readings missing`).toBe(0);
    expect((await fetch(`${s.httpUrl}/readyz`)).status).toBe(200);
  });
});
