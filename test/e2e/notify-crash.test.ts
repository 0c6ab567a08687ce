// kill -9 between an alarm transition and its delivery: the notification waits in the outbox, and after a
// restart on the same DATA_DIR it is delivered, with the same webhook-id. [docs/formats.md, docs/guarantees.md]
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { webhook } from '../helpers/alarms.ts';
import { crashRun, kill9, listenOn, spawnServer } from '../helpers/child-server.ts';
import { freePort } from '../helpers/env.ts';
import { publish, waitFor } from '../helpers/system.ts';

describe.each(['pglite', 'pg'] as const)('notification outbox across kill -9 on %s', (store) => {
  const run = crashRun(store, 'rw-ncrash-');

  it('delivers after the restart what was pending when the process died, same webhook-id', async () => {
    const env = await run.env();
    const port = await freePort(); // the receiver is down while the first process runs
    const url = `http://127.0.0.1:${port}/hook`;

    const p1 = await spawnServer(env);
    run.procs.push(p1);
    await p1.api('POST', '/api/v1/devices', { id: 'g1', name: 'Pegel Lahn', model: 'generic' });
    await p1.api('POST', '/api/v1/rules', {
      name: 'Pegel hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ['g1'] },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    await p1.api('POST', '/api/v1/routes', { name: 'Leitstelle', match: { minSeverity: 'moderate' }, targets: [webhook(url)] });
    const cred = await p1.api('POST', '/api/v1/mqtt-credentials', { username: 'crash-gauge', publish: ['devices/g1/up'] });
    const c = mqtt.connect(p1.mqtt, { username: cred.username, password: cred.password, reconnectPeriod: 0 });
    await new Promise((res, rej) => c.once('connect', res).once('error', rej));
    await publish(c, 'devices/g1/up', { time: new Date().toISOString(), readings: { level_cm: 140 } });
    c.end(true);

    // the alarm is visible and its notification has failed once (receiver down): it waits in the outbox
    const alarm = await waitFor(
      async () => {
        const [a] = (await p1.api('GET', '/api/v1/alarms?deviceId=g1')).items;
        if (!a) return undefined;
        const full = await p1.api('GET', `/api/v1/alarms/${a.id}`);
        return full.notifications[0]?.state === 'pending' && full.notifications[0].attempts.length >= 1 && full;
      },
      10_000,
      'alarm with a pending notification',
    );
    await kill9(p1);

    const rx = (run.rx = await listenOn(port)); // the receiver comes back on the port the route names

    const p2 = await spawnServer(env);
    run.procs.push(p2);
    await waitFor(() => rx.requests.length >= 1, 15_000, 'delivery after restart');
    const after = await waitFor(
      async () => {
        const a = await p2.api('GET', `/api/v1/alarms/${alarm.id}`);
        return a.notifications[0].state === 'delivered' && a;
      },
      5000,
      'delivered state',
    );
    expect(after.notifications).toHaveLength(1);
    const id = after.notifications[0].id;
    expect(rx.requests.every((r) => r.headers['webhook-id'] === id)).toBe(true);
    expect(JSON.parse(rx.requests[0].body)).toMatchObject({ type: 'alarm.firing', alarm: { id: alarm.id, deviceId: 'g1', severity: 'severe' } });
    expect(after.notifications[0].attempts.at(-1)).toMatchObject({ ok: true, status: 200 });
    expect((await p2.api('GET', '/api/v1/alarms?deviceId=g1&state=all')).items).toHaveLength(1);
  }, 60_000);
});
