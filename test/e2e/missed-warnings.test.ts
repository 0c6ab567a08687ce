// Paths where a real storm raised nothing, or an open alarm was never told: each is driven over MQTT through
// the real broker, stored, evaluated by the live engine and read back through the HTTP API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart, receiver } from '../helpers/alarms.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';
import { webhook } from '../helpers/alarms.ts';

const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7]; // KOSTRA T=10 Euler II, 28.8 mm
const evs = (a: { events: { kind: string; severity: string }[] }) => a.events.map((e) => `${e.kind}:${e.severity}`);
const SPAN = 12 * HOUR;

describe('missed or delayed warnings over MQTT', () => {
  let s: TestSystem;
  let h: Harness;
  let n = 0;
  const base = pastStart(SPAN * 12);
  const clock = new Clock(base);
  /** each test has its own stretch of time */
  const stretch = () => {
    const start = base + ++n * SPAN;
    clock.set(start);
    return start;
  };
  beforeAll(async () => {
    s = await startSystem({ store: 'pg', now: clock.now });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
  });

  it('three 8 mm readings stamped a few minutes ahead are 24 mm, not one 8 mm reading', async () => {
    const start = stretch();
    await h.device('fast-clock');
    const ruleId = await h.rule({ preset: 'dwd-starkregen', scope: { deviceIds: ['fast-clock'] } });
    // the gauge's clock runs 2–6 min fast (inside the 10 min the ingest accepts); the clock does not move
    for (const m of [2, 4, 6]) {
      await publish(await h.mqtt(), 'devices/fast-clock/up', { time: new Date(start + m * MIN).toISOString(), readings: { rain_mm: 8 } });
      await s.alerting!.settle();
    }
    const [a] = await waitFor(async () => {
      const l = await h.alarms({ ruleId });
      return l.length > 0 && l;
    }, 8000, 'an alarm');
    expect(evs(a)).toEqual(['firing:moderate']);
    expect(a.events[0].value, 'the 1 h sum when it fired: the second reading made 16 mm').toBe(16);
    await h.advance(10 * MIN, 5 * MIN); // the live value catches up with the third reading
    expect((await h.alarm(a.id)).value).toBe(24);
  });

  it('a shadow rule switched to active while its alarm is open notifies that alarm at once, then every change', async () => {
    const start = stretch();
    await h.device('shadow-live');
    const rx = await receiver();
    try {
      await h.route({ name: 'Leitstelle', match: { minSeverity: 'minor', deviceIds: ['shadow-live'] }, targets: [webhook(rx.url)] });
      const ruleId = await h.rule({ preset: 'dwd-starkregen', mode: 'shadow', scope: { deviceIds: ['shadow-live'] } });
      for (let i = 0; i < 6; i++) await h.send('shadow-live', start + (i + 1) * 5 * MIN, { rain_mm: S1[i] }); // 23.9 mm: moderate
      const [shadow] = await h.alarms({ ruleId });
      expect(shadow.mode).toBe('shadow');
      expect(rx.requests).toEqual([]);

      await s.ok('PATCH', `/api/v1/rules/${ruleId}`, { mode: 'active' });
      await s.alerting!.settle();
      await rx.waitRequests(1);
      expect(rx.bodies().map((b) => [b.type, b.alarm.id, b.alarm.severity, b.alarm.mode])).toEqual([['alarm.firing', shadow.id, 'moderate', 'active']]);
      const atom = await s.api('GET', '/api/v1/cap/alerts.atom');
      expect(atom.body, 'the live alarm is in the CAP feed').toContain(`/api/v1/cap/alerts/${shadow.id}.xml`);

      for (let i = 6; i < 8; i++) await h.send('shadow-live', start + (i + 1) * 5 * MIN, { rain_mm: S1[i] }); // 25.766 mm: severe
      await rx.waitRequests(2);
      expect(rx.bodies().map((b) => [b.type, b.alarm.severity])).toEqual([
        ['alarm.firing', 'moderate'],
        ['alarm.escalated', 'severe'],
      ]);
      const [live] = await h.alarms({ ruleId });
      expect(live.id).toBe(shadow.id);
      expect(live.mode).toBe('active');
    } finally {
      await rx.close();
    }
  });
});
