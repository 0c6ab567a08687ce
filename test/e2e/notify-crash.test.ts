// kill -9 between an alarm transition and its delivery, on each store. One life of the server stores two kinds
// of notification that wait in the outbox when the process dies: a webhook that failed once against the absent
// receiver, and (issue 16) three alarms of one catchment waiting for their group. After a restart on the same
// DATA_DIR each goes out — the webhook with the same webhook-id, the group as one message naming all three —
// nothing lost, nothing sent twice. [docs/formats.md, docs/guarantees.md, migrations/016, services/alarms/group-store.ts]
import mqtt from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../services/notify/test-server.ts';
import { webhook } from '../helpers/alarms.ts';
import { crashRun, kill9, type Proc, spawnServer } from '../helpers/child-server.ts';
import { freePort } from '../helpers/env.ts';
import { publish, waitFor } from '../helpers/system.ts';

const LAHN = ['lahn-a', 'lahn-b', 'lahn-c'];

describe.each(['pglite', 'pg'] as const)('notification outbox across kill -9 on %s', (store) => {
  const run = crashRun(store, 'rw-ncrash-');
  let p2: Proc;
  /** the receivers, down while the first process runs: g1's route and the Lahn group's route */
  let single: TestServer;
  let grouped: TestServer;
  /** g1's alarm as it was when the process died: its notification pending after one failed attempt */
  let alarm: { id: string };
  /** the Lahn alarms, their notifications waiting for the group (or, on a slow machine, failed once) */
  let lahnIds: string[];

  beforeAll(async () => {
    const env = await run.env();
    const [singlePort, groupPort] = [await freePort(), await freePort()];

    const p1 = await spawnServer(env);
    run.procs.push(p1);
    await p1.api('POST', '/api/v1/devices', { id: 'g1', name: 'Pegel Lahn', model: 'generic' });
    for (const d of LAHN) await p1.api('POST', '/api/v1/devices', { id: d, name: `Pegel ${d}`, model: 'generic', tags: { catchment: 'Lahn' } });
    await p1.api('POST', '/api/v1/rules', {
      name: 'Pegel hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ['g1', ...LAHN] },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    await p1.api('POST', '/api/v1/routes', {
      name: 'Leitstelle',
      match: { minSeverity: 'moderate', deviceIds: ['g1'] },
      targets: [webhook(`http://127.0.0.1:${singlePort}/hook`)],
    });
    await p1.api('POST', '/api/v1/routes', {
      name: 'Leitstelle Lahn',
      match: { minSeverity: 'moderate', tags: { catchment: 'Lahn' } },
      targets: [webhook(`http://127.0.0.1:${groupPort}/hook`)],
      groupBy: ['tag:catchment'],
      groupWait: '10s',
    });
    const cred = await p1.api('POST', '/api/v1/mqtt-credentials', { username: 'crash-gauge', publish: ['g1', ...LAHN].map((d) => `devices/${d}/up`) });
    const c = mqtt.connect(p1.mqtt, { username: cred.username, password: cred.password, reconnectPeriod: 0 });
    await new Promise((res, rej) => c.once('connect', res).once('error', rej));
    for (const d of ['g1', ...LAHN]) await publish(c, `devices/${d}/up`, { time: new Date().toISOString(), readings: { level_cm: 140 } });
    c.end(true);

    // g1's alarm is visible and its notification has failed once (receiver down): it waits in the outbox
    alarm = await waitFor(
      async () => {
        const [a] = (await p1.api('GET', '/api/v1/alarms?deviceId=g1')).items;
        if (!a) return undefined;
        const full = await p1.api('GET', `/api/v1/alarms/${a.id}`);
        return full.notifications[0]?.state === 'pending' && full.notifications[0].attempts.length >= 1 && full;
      },
      20_000,
      'alarm with a pending notification',
    );
    // all three Lahn alarms are open and their notifications wait for the group (or, on a slow machine, the
    // group went out and failed once against the absent receiver): either way the process dies now
    lahnIds = await waitFor(
      async () => {
        const list = ((await p1.api('GET', '/api/v1/alarms')).items as { id: string; deviceId: string }[]).filter((a) => LAHN.includes(a.deviceId));
        if (list.length < 3) return undefined;
        for (const a of list) {
          const full = await p1.api('GET', `/api/v1/alarms/${a.id}`);
          if (!full.notifications.length) return undefined;
        }
        return list.map((a) => a.id);
      },
      20_000,
      'three alarms waiting in their group',
    );
    await kill9(p1);

    // the receivers come back on the ports the routes name
    single = await run.listen(singlePort);
    grouped = await run.listen(groupPort);
    p2 = await spawnServer(env);
    run.procs.push(p2);
  }, 120_000);

  it('delivers after the restart what was pending when the process died, same webhook-id', async () => {
    await waitFor(() => single.requests.length >= 1, 15_000, 'delivery after restart');
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
    expect(single.requests.every((r) => r.headers['webhook-id'] === id)).toBe(true);
    expect(JSON.parse(single.requests[0].body)).toMatchObject({ type: 'alarm.firing', alarm: { id: alarm.id, deviceId: 'g1', severity: 'severe' } });
    expect(after.notifications[0].attempts.at(-1)).toMatchObject({ ok: true, status: 200 });
    expect((await p2.api('GET', '/api/v1/alarms?deviceId=g1&state=all')).items).toHaveLength(1);
  });

  it('the waiting group is sent once after the restart, with every alarm in it', async () => {
    await waitFor(() => grouped.requests.length >= 1, 40_000, 'the grouped message after the restart');
    const rows = await waitFor(
      async () => {
        const all = [];
        for (const id of lahnIds) all.push(...(await p2.api('GET', `/api/v1/alarms/${id}`)).notifications);
        return all.every((n: { state: string }) => n.state === 'delivered' || n.state === 'merged') && all;
      },
      20_000,
      'every notification delivered or merged',
    );
    expect(rows).toHaveLength(3);
    expect(rows.filter((n: { state: string }) => n.state === 'delivered')).toHaveLength(1);
    // one message (a retry keeps its webhook-id), naming all three alarms
    expect(new Set(grouped.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const body = JSON.parse(grouped.requests[0].body);
    expect(body.type).toBe('alarm.grouped');
    expect(body.alarms.map((a: { id: string }) => a.id).sort()).toEqual([...lahnIds].sort());
    expect(body.group).toMatchObject({ label: 'Lahn', count: 3 });
  }, 60_000);
});
