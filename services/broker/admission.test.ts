// [README.md Configuration: MQTT_MAX_PACKET_BYTES] What an unauthenticated network client can make the embedded broker do:
// announce a huge packet (closed once the length is read, nothing buffered), hold a socket open without
// logging in (closed after MQTT_CONNECT_TIMEOUT), open many sockets from one address (capped per address).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { varint } from '../../bench/mqtt-lite.ts';
import { freePort, freshPgDatabase } from '../../test/helpers/env.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../../test/helpers/system.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

let s: TestSystem;
let port: number;
beforeAll(async () => {
  s = await startSystem({ store: 'pg', env: { MQTT_CONNECT_TIMEOUT: '3s', MQTT_MAX_PENDING_PER_ADDRESS: '4' } });
  port = Number(new URL(s.mqttUrl!).port);
  await s.ok('POST', '/api/v1/devices', { id: 'lim-gauge', name: 'lim', model: 'generic' });
});
afterAll(() => s?.close());

interface Raw {
  sock: net.Socket;
  closed: Promise<void>;
  isClosed: () => boolean;
}
function raw(localAddress = '127.0.0.1', to = port): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: to, localAddress });
    let isClosed = false;
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once('close', () => (isClosed = true));
    sock.on('error', () => {});
    sock.once('connect', () => resolve({ sock, closed, isClosed: () => isClosed }));
    sock.once('error', reject);
  });
}

/** `npm start` as its own process (PostgreSQL from TEST_DATABASE_URL when set, else the embedded store). */
async function startServerProcess() {
  const db = await freshPgDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-rss-'));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH ?? '',
    TMPDIR: os.tmpdir(),
    DATA_DIR: dataDir,
    HTTP_PORT: String(httpPort),
    MQTT_PORT: String(mqttPort),
    LOG_LEVEL: 'warn',
    ADMIN_TOKEN: crypto.randomBytes(24).toString('hex'),
    ...(db ? { DATABASE_URL: db.url } : {}),
  };
  // node itself (not a wrapper) so the pid is the server's
  const p = spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], { cwd: ROOT, env, stdio: 'ignore' });
  const stop = async () => {
    p.kill('SIGKILL');
    await db?.drop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, 60_000, 'server ready');
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: p.pid as number, httpPort, mqttPort, stop };
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms))]);

/** Streams up to `total` bytes of a packet body, with backpressure, until the server closes the socket. */
async function stream(r: Raw, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (sent < total && !r.isClosed() && !r.sock.destroyed) {
    sent += chunk.length;
    if (!r.sock.write(chunk)) await Promise.race([new Promise((ok) => r.sock.once('drain', ok)), r.closed]);
  }
  return sent;
}

describe('a packet announcing more than MQTT_MAX_PACKET_BYTES', () => {
  // The server runs in its own process, so its resident memory is measured without the test runner's.
  it.skipIf(process.platform !== 'linux')(
    'three raw sockets announcing 256 MiB CONNECTs are closed, and the server grows by less than 20 MiB',
    async () => {
      const srv = await startServerProcess();
      try {
        const announce = async (n: number) => {
          const socks = await Promise.all(Array.from({ length: n }, () => raw('127.0.0.1', srv.mqttPort)));
          // a CONNECT fixed header announcing 256 MiB − 1 (the MQTT maximum), then as much body as the server reads
          for (const r of socks) r.sock.write(Buffer.concat([Buffer.from([0x10]), varint(268_435_455)]));
          const sent = await Promise.all(socks.map((r) => stream(r, 16 * 1024 * 1024)));
          return { sent, closed: await Promise.all(socks.map((r) => within(r.closed, 5000))) };
        };
        await announce(1); // warm-up: the code path is compiled and its first allocations are made
        const before = rssOf(srv.pid);
        const { sent, closed } = await announce(3);
        const grown = rssOf(srv.pid) - before;
        expect(closed).toEqual([true, true, true]);
        expect(grown, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB after ${sent.map((n) => (n / 2 ** 20).toFixed(1)).join(' / ')} MiB sent`).toBeLessThan(
          20 * 2 ** 20,
        );
        expect((await fetch(`http://127.0.0.1:${srv.httpPort}/healthz`)).status).toBe(200);
      } finally {
        await srv.stop();
      }
    },
    90_000,
  );

  it('an authenticated client publishing an oversized packet is disconnected and sees a too_large rejection; a normal publish still works', async () => {
    const big = await s.mqttClient(['devices/lim-gauge/up']);
    let gone = false;
    big.on('close', () => (gone = true));
    big.publish('devices/lim-gauge/up', Buffer.alloc(300 * 1024, 0x20), { qos: 1 });
    await waitFor(() => gone, 10_000, 'disconnect after an oversized packet');
    big.end(true);
    const rej = await waitFor(async () => (await s.ok('GET', '/api/v1/rejected-uplinks?reason=too_large')).items[0], 5000, 'too_large rejection');
    expect(rej.topic).toBe('devices/lim-gauge/up');
    expect(rej.message).toMatch(/MQTT_MAX_PACKET_BYTES/);
    const ok = await s.mqttClient(['devices/lim-gauge/up']);
    const t = new Date(Date.now() - 1000).toISOString();
    await publish(ok, 'devices/lim-gauge/up', { time: t, readings: { level_cm: 5 } });
    ok.end(true);
    expect((await s.ok('GET', '/api/v1/devices/lim-gauge/readings?metric=level_cm')).points).toEqual([{ time: t, value: 5 }]);
  });
});

describe('unauthenticated sockets', () => {
  it('a CONNECT over 64 KiB is refused even with a valid password (a 60 KB will and a 20 KB client id); a normal one logs in', async () => {
    const c = await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'big-will', publish: ['devices/lim-gauge/up'] });
    // each CONNECT field has a 2-byte length [MQTT-1.5.3]: several of them make a CONNECT over 64 KiB
    const attempt = (willBytes: number, idChars: number) =>
      new Promise<string>((resolve) => {
        const will = { topic: 'devices/lim-gauge/up', payload: Buffer.alloc(willBytes, 0x20), qos: 0 as const, retain: false };
        const client = mqtt.connect(s.mqttUrl!, {
          username: c.username,
          password: c.password,
          clientId: `big-${'c'.repeat(idChars)}`,
          reconnectPeriod: 0,
          will,
        });
        const end = (r: string) => {
          client.end(true);
          resolve(r);
        };
        client.once('connect', () => end('connected'));
        client.once('error', () => end('refused'));
        client.once('close', () => end('closed'));
      });
    expect(await attempt(60_000, 20_000)).not.toBe('connected');
    expect(await attempt(100, 10)).toBe('connected');
  });

  it('a socket that never completes its CONNECT is closed after MQTT_CONNECT_TIMEOUT; a logged-in client stays', async () => {
    const idle = await raw();
    const slow = await raw();
    slow.sock.write(Buffer.from([0x10, 0x20, 0x00])); // the first bytes of a CONNECT, then nothing (slowloris)
    const client: MqttClient = await s.mqttClient(['devices/lim-gauge/up']);
    expect(await within(idle.closed, 8000)).toBe(true);
    expect(await within(slow.closed, 8000)).toBe(true);
    expect(client.connected).toBe(true);
    await publish(client, 'devices/lim-gauge/up', { readings: { level_cm: 6 } });
    client.end(true);
  });

  it('at most MQTT_MAX_PENDING_PER_ADDRESS unauthenticated sockets per source address; other addresses still connect', async () => {
    const four = await Promise.all([1, 2, 3, 4].map(() => raw('127.0.0.2')));
    const fifth = await raw('127.0.0.2');
    expect(await within(fifth.closed, 2500)).toBe(true);
    // closed on arrival, not by the connect timeout: the four earlier ones are still open
    expect(four.map((r) => r.isClosed())).toEqual([false, false, false, false]);
    const elsewhere = await raw('127.0.0.3');
    expect(elsewhere.isClosed()).toBe(false);
    const client = await s.mqttClient(['devices/lim-gauge/up']);
    expect(client.connected).toBe(true);
    client.end(true);
    for (const r of [...four, elsewhere]) r.sock.destroy();
  });
});
