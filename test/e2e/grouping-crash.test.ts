// kill -9 between grouping and sending (issue 16): three alarms of one catchment wait in the outbox for their
// group when the process dies; after a restart on the same data the group goes out as one message naming
// all three — nothing lost, nothing sent twice. [migrations/016, services/alarms/group-store.ts]
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { webhook } from '../helpers/alarms.ts';
import { crashRun, kill9, listenOn, spawnServer } from '../helpers/child-server.ts';
import { freePort } from '../helpers/env.ts';
import { publish, waitFor } from '../helpers/system.ts';

describe.each(['pglite', 'pg'] as const)('storm group across kill -9 on %s', (store) => {
  const run = crashRun(store, 'rw-gcrash-');

  it('the waiting group is sent once after the restart, with every alarm in it', async () => {
    const env = await run.env();
    const port = await freePort(); // the receiver is down while the first process runs
    const devs = ['lahn-a', 'lahn-b', 'lahn-c'];

    const p1 = await spawnServer(env);
    run.procs.push(p1);
    for (const d of devs) await p1.api('POST', '/api/v1/devices', { id: d, name: `Pegel ${d}`, model: 'generic', tags: { catchment: 'Lahn' } });
    await p1.api('POST', '/api/v1/rules', {
      name: 'Pegel hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { tags: { catchment: 'Lahn' } },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    await p1.api('POST', '/api/v1/routes', {
      name: 'Leitstelle',
      match: { minSeverity: 'moderate' },
      targets: [webhook(`http://127.0.0.1:${port}/hook`)],
      groupBy: ['tag:catchment'],
      groupWait: '10s',
    });
    const cred = await p1.api('POST', '/api/v1/mqtt-credentials', { username: 'gcrash', publish: devs.map((d) => `devices/${d}/up`) });
    const c = mqtt.connect(p1.mqtt, { username: cred.username, password: cred.password, reconnectPeriod: 0 });
    await new Promise((res, rej) => c.once('connect', res).once('error', rej));
    for (const d of devs) await publish(c, `devices/${d}/up`, { time: new Date().toISOString(), readings: { level_cm: 140 } });
    c.end(true);

    // all three alarms are open and their notifications wait for the group (or, on a slow machine, the group
    // went out and failed once against the absent receiver): either way the process dies now
    const ids = await waitFor(
      async () => {
        const list = (await p1.api('GET', '/api/v1/alarms')).items as { id: string }[];
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

    const rx = (run.rx = await listenOn(port));
    const p2 = await spawnServer(env);
    run.procs.push(p2);
    await waitFor(() => rx.requests.length >= 1, 40_000, 'the grouped message after the restart');
    const rows = await waitFor(
      async () => {
        const all = [];
        for (const id of ids) all.push(...(await p2.api('GET', `/api/v1/alarms/${id}`)).notifications);
        return all.every((n: { state: string }) => n.state === 'delivered' || n.state === 'merged') && all;
      },
      20_000,
      'every notification delivered or merged',
    );
    expect(rows).toHaveLength(3);
    expect(rows.filter((n: { state: string }) => n.state === 'delivered')).toHaveLength(1);
    // one message (a retry keeps its webhook-id), naming all three alarms
    expect(new Set(rx.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const body = JSON.parse(rx.requests[0].body);
    expect(body.type).toBe('alarm.grouped');
    expect(body.alarms.map((a: { id: string }) => a.id).sort()).toEqual([...ids].sort());
    expect(body.group).toMatchObject({ label: 'Lahn', count: 3 });
  }, 120_000);
});
