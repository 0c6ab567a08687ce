// A storm whose readings arrive in one batch: its new alarms, their events and their outbox rows are stored in
// one transaction (one statement), and each alarm's webhook still goes out exactly once. [docs/guarantees.md]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, pastStart, receiver, sleep, webhook } from '../helpers/alarms.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const N = 12;

describe.each(['pglite', 'pg'] as const)('a storm in one batch on %s', (store) => {
  let s: TestSystem;
  let h: Harness;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const clock = new Clock(pastStart(2 * HOUR));

  beforeAll(async () => {
    rx = await receiver([200]);
    s = await startSystem({ store, now: clock.now });
    h = new Harness(s, clock);
  }, 120_000);
  afterAll(async () => {
    h?.close();
    await s?.close();
    await rx?.close();
  });

  it(`${N} gauges over their threshold in one commit: ${N} alarms in one transaction, each delivered once`, async () => {
    const devs = Array.from({ length: N }, (_, i) => `storm${i}`);
    for (const d of devs) await s.ok('POST', '/api/v1/devices', { id: d, name: `Pegel ${d}`, model: 'generic', tags: { storm: 'yes' } });
    await h.rule({ name: 'Sturm', kind: 'threshold', metric: 'level_cm', scope: { tags: { storm: 'yes' } }, levels: [{ severity: 'severe', threshold: 100 }] });
    await h.route({ name: 'Leitstelle', match: { minSeverity: 'moderate' }, targets: [webhook(`${rx.url}/hook`)] });
    clock.set(clock.t + 60_000);
    // one write: one batch commit, so the rule engine hands all transitions on together
    const stored = await s.ingest!.storeReadings(devs.map((deviceId) => ({ deviceId, metric: 'level_cm', time: clock.t, value: 150, quality: 0 })));
    expect(stored).toHaveLength(N);
    await s.alerting!.settle();
    await rx.waitRequests(N);
    await sleep(300);
    await s.alerting!.settle();
    expect(rx.requests).toHaveLength(N);
    expect(new Set(rx.requests.map((r) => r.headers['webhook-id'])).size).toBe(N);
    expect(
      rx
        .bodies()
        .map((b) => b.alarm.deviceId)
        .sort(),
    ).toEqual([...devs].sort());
    // every body names its own stored alarm (id and link filled in by the statement that stored it)
    const alarms = await h.alarms({});
    for (const b of rx.bodies()) {
      const a = alarms.find((x) => x.deviceId === b.alarm.deviceId);
      expect(b.alarm.id).toBe(a?.id);
      expect(b.alarm.url).toMatch(new RegExp(`/api/v1/alarms/${a?.id}$`));
    }
    // the alarms and their firing events: written by one transaction (the rows share their xmin)
    const tx = await s.ctx.db.query<{ n: number }>(
      `select count(distinct x)::int as n from (
         select xmin::text as x from alarms where device_id like 'storm%'
         union all select e.xmin::text from alarm_events e join alarms a on a.id = e.alarm_id where a.device_id like 'storm%') t`,
    );
    expect(tx.rows[0].n).toBe(1);
    // each recorded as delivered once its attempt is written (the receiver's 2xx comes first)
    const deliveries = await waitFor(
      async () => {
        const r = await s.ctx.db.query<{ n: number; d: number }>(
          `select count(*)::int as n, count(*) filter (where n.state = 'delivered')::int as d from notifications n join alarms a on a.id = n.alarm_id where a.device_id like 'storm%'`,
        );
        return r.rows[0].d === N && r.rows[0];
      },
      30_000,
      'every notification recorded as delivered',
    );
    expect(deliveries).toEqual({ n: N, d: N });
    expect(rx.requests).toHaveLength(N);
  }, 120_000);
});
