import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

describe.each(['pglite', 'pg'] as const)('whole system on %s', (store) => {
  let s: TestSystem;
  beforeAll(async () => {
    s = await startSystem({ store });
  });
  afterAll(() => s?.close());

  it('stores a native reading published over MQTT and serves it back', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'g1', name: 'Gauge 1', model: 'generic' });
    const c = await s.mqttClient();
    const t = new Date(Date.now() - 1000).toISOString();
    await publish(c, 'devices/g1/up', { time: t, readings: { level_cm: 123.4 } });
    c.end(true);
    const r = await s.ok('GET', '/api/v1/devices/g1/readings?metric=level_cm');
    expect(r.points).toEqual([{ time: t, value: 123.4 }]);
    expect(r.unit).toBe('cm');
  });

  it('keeps an implausible jump flagged, and names the flag in the readings API', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'g2', name: 'Gauge 2', model: 'generic' });
    const c = await s.mqttClient();
    const t0 = Date.now() - 60_000;
    await publish(c, 'devices/g2/up', { time: new Date(t0).toISOString(), readings: { level_cm: 100 } });
    // +100 cm within one second: faster than any river rises
    await publish(c, 'devices/g2/up', { time: new Date(t0 + 1000).toISOString(), readings: { level_cm: 200 } });
    c.end(true);
    const r = await s.ok('GET', '/api/v1/devices/g2/readings?metric=level_cm');
    expect(r.points[0]).toEqual({ time: new Date(t0).toISOString(), value: 100 });
    expect(r.points[1].value).toBe(200);
    expect(r.points[1].quality).toBeGreaterThan(0);
    expect(r.points[1].flags.length).toBeGreaterThan(0);
    expect(r.points[1].flags.every((f: string) => ['spike', 'gradient', 'out_of_range', 'dead_zone'].includes(f))).toBe(true);
  });

  it('exposes open alarms and the outbox backlog to Prometheus', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'g3', name: 'Gauge 3', model: 'generic' });
    await s.ok('POST', '/api/v1/rules', {
      name: 'hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ['g3'] },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    const c = await s.mqttClient();
    await publish(c, 'devices/g3/up', { readings: { level_cm: 150 } });
    c.end(true);
    const text = await waitFor(
      async () => {
        const t = await (await fetch(`${s.httpUrl}/metrics`)).text();
        return /regenwacht_alarms_open\{severity="severe",state="firing"\} 1/.test(t) ? t : null;
      },
      8000,
      'open alarm gauge',
    );
    expect(text).toMatch(/# TYPE regenwacht_notifications gauge/);
  });

  it('an open alarm shows the live value, its events the value at each transition', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'g4', name: 'Regenschreiber 4', model: 'generic' });
    await s.ok('POST', '/api/v1/rules', { name: 'DWD', preset: 'dwd-starkregen', scope: { deviceIds: ['g4'] } });
    const c = await s.mqttClient();
    const t0 = Date.now() - 30 * 60_000;
    for (const [i, mm] of [10, 6, 3, 2.5].entries())
      await publish(c, 'devices/g4/up', { time: new Date(t0 + i * 300_000).toISOString(), readings: { rain_mm: mm } });
    c.end(true);
    const [a] = await waitFor(
      async () => {
        await s.alerting!.settle();
        const x = (await s.ok('GET', '/api/v1/alarms?deviceId=g4')).items;
        return x.length && x[0].value === 21.5 ? x : null;
      },
      8000,
      'live value 21.5',
    );
    expect(a.severity).toBe('moderate');
    const d = await s.ok('GET', `/api/v1/alarms/${a.id}`);
    expect(d.events.map((e: { kind: string; value: number }) => [e.kind, e.value])).toEqual([['firing', 16]]);
  });
});
