// Fault injection, bounded and on loopback only: a client flooding malformed uplinks, an upstream broker
// restart with a persistent session, a slow webhook receiver during an alarm storm. [docs/guarantees.md]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REQUIRE_EXTERNAL } from '../helpers/env.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a client flooding malformed uplinks', () => {
  let s: TestSystem;
  beforeAll(async () => {
    s = await startSystem();
    await s.ok('POST', '/api/v1/devices', { id: 'good-1', name: 'good', model: 'generic' });
  });
  afterAll(() => s?.close());

  it('is disconnected while a well-behaved client keeps publishing unaffected', async () => {
    const bad = await s.mqttClient();
    const good = await s.mqttClient();
    let badClosed = false;
    bad.on('close', () => (badClosed = true));
    bad.on('error', () => {});
    const t0 = Date.now();
    const goodTimes: string[] = [];
    // 100 malformed messages per second from one client, for at most 8 s
    const flood = (async () => {
      for (let i = 0; i < 800 && !badClosed; i++) {
        bad.publish('devices/good-1/up', '{"readings": {"level_cm": 12', { qos: 0 });
        if (i % 10 === 9) await sleep(100);
      }
    })();
    for (let i = 0; i < 40; i++) {
      const t = new Date(t0 - 60_000 + i * 1000).toISOString();
      await publish(good, 'devices/good-1/up', { time: t, readings: { level_cm: 100 + i } });
      goodTimes.push(t);
      await sleep(50);
    }
    await flood;
    await waitFor(() => badClosed, 10_000, 'bad client disconnected');
    good.end(true);
    const r = await s.ok('GET', `/api/v1/devices/good-1/readings?metric=level_cm&from=${new Date(t0 - 120_000).toISOString()}`);
    expect(r.points.map((p: { time: string }) => p.time)).toEqual(goodTimes);
    const rej = await s.ok('GET', '/api/v1/rejected-uplinks?reason=invalid_json&limit=1000');
    expect(rej.items.length).toBeGreaterThan(100);
  }, 40_000);
});

// A real Mosquitto of our own on a free port with persistence, restarted under Regenwacht's feet.
const hasMosquitto = spawnSync('which', ['mosquitto']).status === 0;
describe.skipIf(!hasMosquitto && !REQUIRE_EXTERNAL)('upstream broker restart', () => {
  let dir: string;
  let port: number;
  let broker: ChildProcess | undefined;
  let s: TestSystem;
  const startBroker = async () => {
    broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<boolean>((res) => {
          const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
          c.once('connect', () => {
            c.end(true);
            res(true);
          });
          c.once('error', () => res(false));
        }),
      10_000,
      'mosquitto up',
    );
  };
  const stopBroker = async () => {
    const b = broker;
    if (!b || b.exitCode !== null) return;
    const exited = new Promise((r) => b.once('exit', r));
    b.kill('SIGTERM'); // mosquitto writes its persistence file on a clean stop
    await exited;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-mosq-'));
    fs.chmodSync(dir, 0o777); // mosquitto started as root drops to its own user and must write its persistence here
    port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nautosave_interval 1\n`,
    );
    await startBroker();
    s = await startSystem({ env: { MQTT_PORT: 'off', UPSTREAM_MQTT_URL: `mqtt://127.0.0.1:${port}` } });
    await s.ok('POST', '/api/v1/devices', { id: 'up-1', name: 'upstream gauge', model: 'generic' });
    await waitFor(async () => (await fetch(`${s.httpUrl}/readyz`)).status === 200, 10_000, 'upstream subscribed');
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await stopBroker();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resubscribes after the restart, and QoS 1 messages queued in its session while it was away arrive', async () => {
    const t0 = Date.now() - 30 * 60_000;
    const at = (i: number) => new Date(t0 + i * 60_000).toISOString();
    const pub = async (from: number, to: number) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      await new Promise((r, j) => {
        c.once('connect', r);
        c.once('error', j);
      });
      for (let i = from; i < to; i++) await publish(c, 'devices/up-1/up', { time: at(i), readings: { level_cm: i } });
      c.end();
    };
    await pub(0, 5);
    await waitFor(async () => (await s.ok('GET', '/api/v1/devices/up-1/readings?metric=level_cm')).points.length === 5, 8000, 'first 5');

    await stopBroker();
    await waitFor(async () => (await fetch(`${s.httpUrl}/readyz`)).status === 503, 8000, 'readyz reports the broker loss');
    await startBroker();
    // published immediately after the restart, before Regenwacht reconnects: kept in its persistent session
    await pub(5, 15);
    await waitFor(async () => (await s.ok('GET', '/api/v1/devices/up-1/readings?metric=level_cm')).points.length === 15, 15_000, 'all 15 after restart');
    const pts = (await s.ok('GET', '/api/v1/devices/up-1/readings?metric=level_cm')).points;
    expect(pts.map((p: { value: number }) => p.value)).toEqual([...Array(15).keys()]);
    expect((await fetch(`${s.httpUrl}/readyz`)).status).toBe(200);
  }, 60_000);
});

describe('a slow webhook receiver during an alarm storm', () => {
  let s: TestSystem;
  let slow: http.Server;
  let fast: http.Server;
  const fastGot: { at: number; body: any }[] = [];
  let slowFirstAnswer = Number.POSITIVE_INFINITY;
  beforeAll(async () => {
    slow = http.createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        slowFirstAnswer = Math.min(slowFirstAnswer, Date.now());
        res.end('ok');
      }, 8000).unref();
    });
    fast = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        fastGot.push({ at: Date.now(), body: JSON.parse(b) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => fast.listen(0, '127.0.0.1', () => r()));
    s = await startSystem();
    const secret = `whsec_${Buffer.from('storm-secret-0123456789').toString('base64')}`;
    const ids = Array.from({ length: 20 }, (_, i) => `storm-${i}`);
    for (const id of ids) await s.ok('POST', '/api/v1/devices', { id, name: id, model: 'generic' });
    await s.ok('POST', '/api/v1/rules', {
      name: 'Pegel hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ids },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    const url = (srv: http.Server) => `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook`;
    await s.ok('POST', '/api/v1/routes', {
      name: 'slow',
      match: { minSeverity: 'moderate' },
      targets: [{ type: 'webhook', url: url(slow), secret }],
      notifyOn: ['firing'],
    });
    await s.ok('POST', '/api/v1/routes', {
      name: 'fast',
      match: { minSeverity: 'moderate' },
      targets: [{ type: 'webhook', url: url(fast), secret }],
      notifyOn: ['firing'],
    });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    slow.closeAllConnections();
    slow.close();
    fast.close();
  });

  it('does not delay the fast receiver or ingestion', async () => {
    const c = await s.mqttClient();
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) await publish(c, `devices/storm-${i}/up`, { readings: { level_cm: 150 } });
    // ingestion keeps going while 20 deliveries hang at the slow receiver
    await publish(c, 'devices/storm-0/up', { time: new Date(Date.now() + 1).toISOString(), readings: { level_cm: 151 } });
    c.end(true);
    await waitFor(() => fastGot.length >= 20, 7500, '20 fast deliveries');
    // every fast delivery arrived before the slow receiver answered even once: nothing queued behind it
    expect(Math.max(...fastGot.map((g) => g.at))).toBeLessThan(slowFirstAnswer);
    expect(Math.max(...fastGot.map((g) => g.at)) - t0).toBeLessThan(8000);
    expect(new Set(fastGot.map((g) => g.body.alarm.deviceId)).size).toBe(20);
    const pts = (await s.ok('GET', '/api/v1/devices/storm-0/readings?metric=level_cm')).points;
    expect(pts.length).toBe(2);
  }, 30_000);
});
