// Upstream subscription rate: Regenwacht (MQTT_PORT=off) subscribed to the Mosquitto at TEST_MQTT_URL
// (default mqtt://127.0.0.1:1883), storing into PostgreSQL (TEST_DATABASE_URL, fresh database) or the
// embedded store. Publishes N QoS 1 native readings (default 1000: Mosquitto queues at most 1000 per
// session by default, more would be dropped by the broker itself) and times until all are stored.
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/upstream.ts
import mqtt from 'mqtt';
import { startSystem } from '../test/helpers/system.ts';

const N = Number(process.env.N ?? 1000);
const url = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const s = await startSystem({ store: process.env.TEST_DATABASE_URL ? 'pg' : 'pglite', env: { MQTT_PORT: 'off', UPSTREAM_MQTT_URL: url } });
try {
  const dev = `upb-${Date.now()}`;
  await s.ok('POST', '/api/v1/devices', { id: dev, name: 'upstream bench', model: 'generic' });
  for (let i = 0; i < 50 && (await fetch(`${s.httpUrl}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  const c = mqtt.connect(url);
  await new Promise((r) => c.once('connect', r));
  const t0 = Date.now() - 3_600_000;
  const start = performance.now();
  await Promise.all(
    Array.from(
      { length: N },
      (_, i) =>
        new Promise((r) =>
          c.publish(`devices/${dev}/up`, JSON.stringify({ time: new Date(t0 + i * 100).toISOString(), readings: { level_cm: i } }), { qos: 1 }, r),
        ),
    ),
  );
  let stored = 0;
  const deadline = performance.now() + 60_000;
  while (stored < N && performance.now() < deadline) {
    stored = (await s.ctx.db.query<{ n: number }>('select count(*)::int as n from readings where device_id = $1', [dev])).rows[0].n;
    if (stored < N) await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - start;
  c.end();
  process.stdout.write(
    `${JSON.stringify({ upstream_msgs_per_s: Math.round((stored / ms) * 1000), messages: N, stored, ms: Math.round(ms), store: s.ctx.db.kind })}\n`,
  );
} finally {
  await s.close();
}
