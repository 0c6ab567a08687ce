// Paths where a real storm raised nothing, or an open alarm was never told: each is driven over MQTT through
// the real broker, stored, evaluated by the live engine and read back through the HTTP API.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart, receiver, webhook } from '../helpers/alarms.ts';
import { freshPgDatabase } from '../helpers/env.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7]; // KOSTRA T=10 Euler II, 28.8 mm
const evs = (a: { events: { kind: string; severity: string }[] }) => a.events.map((e) => `${e.kind}:${e.severity}`);
const SPAN = 12 * HOUR;

describe('missed or delayed warnings over MQTT', () => {
  let s: TestSystem;
  let h: Harness;
  let n = 0;
  const base = pastStart(SPAN * 16);
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
  /** A rain gauge under the DWD rule (its options in `rule`) with a route to its own receiver (closed after the
   *  test); `rain(i, j)` sends the KOSTRA storm's 5-min sums S1[i…j-1] at +5, +10, … min from `start`. */
  const stormGauge = async (dev: string, start: number, rule: Record<string, unknown> = {}) => {
    await h.device(dev);
    const rx = await receiver();
    onTestFinished(() => rx.close());
    await h.route({ name: 'Leitstelle', match: { minSeverity: 'minor', deviceIds: [dev] }, targets: [webhook(rx.url)] });
    const ruleId = await h.rule({ preset: 'dwd-starkregen', ...rule, scope: { deviceIds: [dev] } });
    const rain = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await h.send(dev, start + (i + 1) * 5 * MIN, { rain_mm: S1[i] });
    };
    return { rx, ruleId, rain };
  };

  it('three 8 mm readings stamped a few minutes ahead are 24 mm, not one 8 mm reading', async () => {
    const start = stretch();
    await h.device('fast-clock');
    const ruleId = await h.rule({ preset: 'dwd-starkregen', scope: { deviceIds: ['fast-clock'] } });
    // the gauge's clock runs 2–6 min fast (inside the 10 min the ingest accepts); the clock does not move
    for (const m of [2, 4, 6]) {
      await publish(await h.mqtt(), 'devices/fast-clock/up', { time: new Date(start + m * MIN).toISOString(), readings: { rain_mm: 8 } });
      await s.alerting!.settle();
    }
    const [a] = await waitFor(
      async () => {
        const l = await h.alarms({ ruleId });
        return l.length > 0 && l;
      },
      8000,
      'an alarm',
    );
    expect(evs(a)).toEqual(['firing:moderate']);
    expect(a.events[0].value, 'the 1 h sum when it fired: the second reading made 16 mm').toBe(16);
    await h.advance(10 * MIN, 5 * MIN); // the live value catches up with the third reading
    expect((await h.alarm(a.id)).value).toBe(24);
  });

  // [start minute, level] every uplink; Meldestufen 550/600/650
  it.each([
    {
      name: 'at 15-min sampling 500 → 560 → 562 raises Meldestufe I with the 560, not an interval later',
      levels: [
        [0, 500],
        [15, 560],
        [30, 562],
      ],
      expect: { history: ['firing:moderate'], startedAtMinute: 15, firstValue: 560 },
    },
    {
      name: 'at 15-min sampling the 600 cm peak of 480 → 600 → 500 raises Meldestufe II',
      levels: [
        [0, 480],
        [15, 600],
        [30, 500],
      ],
      expect: { history: ['firing:severe'], startedAtMinute: 15, firstValue: 600 },
    },
    {
      name: 'a jump held as a possible spike is evaluated once the next reading confirms it',
      levels: [
        [0, 500],
        [5, 560],
        [10, 565],
      ],
      // startedAt is the reading time the condition began (issue 10 item 9), not when the hold released it
      expect: { history: ['firing:moderate'], startedAtMinute: 5, firstValue: 560 },
    },
    {
      name: 'a held peak whose way back is too slow for a blip is evaluated',
      levels: [
        [0, 480],
        [5, 600],
        [20, 500],
      ],
      expect: { history: ['firing:severe'], startedAtMinute: 5, firstValue: 600 },
    },
    {
      name: 'a blip (up and straight back within minutes) still raises nothing',
      levels: [
        [0, 500],
        [5, 600],
        [10, 501],
      ],
      expect: { history: [], startedAtMinute: 0, firstValue: 0 },
    },
  ] as const)('level spikes: $name', async (sc) => {
    const start = stretch();
    const dev = `spike-${n}`;
    await h.device(dev);
    const ruleId = await h.rule({ preset: 'pegel-meldestufen', thresholds: [550, 600, 650], scope: { deviceIds: [dev] } });
    for (const [m, level] of sc.levels) await h.send(dev, start + m * MIN, { level_cm: level });
    const alarms = await h.alarms({ ruleId });
    if (!sc.expect.history.length) return expect(alarms).toEqual([]);
    expect(alarms.map((a) => evs(a).slice(0, 1))).toEqual([sc.expect.history]);
    expect(alarms[0].startedAt).toBe(new Date(start + sc.expect.startedAtMinute * MIN).toISOString());
    expect(alarms[0].events[0].value).toBe(sc.expect.firstValue);
  });

  it('a rise across a radio gap longer than the rate window raises the rate alarm (the rise is measured from the level at the window start, interpolated)', async () => {
    const start = stretch();
    const dev = `rise-gap-${n}`;
    await h.device(dev);
    const ruleId = await h.rule({
      name: 'Anstieg',
      kind: 'rate',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [{ severity: 'moderate', window: '1h', threshold: 30 }],
    });
    // every 15 min; the uplinks of minutes 30–75 are lost in the storm; 205 → 250 → 262 cm is 57 cm in 80 min
    for (const [m, level] of [
      [0, 200],
      [15, 205],
      [80, 250],
      [95, 262],
    ])
      await h.send(dev, start + m * MIN, { level_cm: level });
    const alarms = await h.alarms({ ruleId });
    expect(alarms.map((a) => evs(a).slice(0, 1))).toEqual([['firing:moderate']]);
    // the level 1 h before minute 80, on the line from 205 cm (minute 15) to 250 cm (minute 80): 208.46 cm
    expect(alarms[0].events[0].value).toBeGreaterThanOrEqual(41);
    expect(alarms[0].events[0].value).toBeLessThan(54);
  });

  it('a rise spread evenly over a day of silence is no rate alarm', async () => {
    const start = stretch();
    const dev = `rise-slow-${n}`;
    await h.device(dev);
    const ruleId = await h.rule({
      name: 'Anstieg',
      kind: 'rate',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [{ severity: 'moderate', window: '1h', threshold: 30 }],
    });
    await h.send(dev, start, { level_cm: 200 });
    await h.send(dev, start + 10 * HOUR, { level_cm: 240 });
    await h.send(dev, start + 10 * HOUR + 15 * MIN, { level_cm: 241 });
    expect(await h.alarms({ ruleId })).toEqual([]);
  });

  it('a rain gauge that goes silent mid-storm holds its alarm (SENSOR STILL, no ENTWARNUNG); readings resume the evaluation', async () => {
    const start = stretch();
    const { rx, ruleId, rain } = await stormGauge('silent', start);
    await rain(0, 8); // severe at +40 min
    await h.advance(6 * HOUR, 5 * MIN); // the gauge is dead: no reading at all
    const [held] = await h.alarms({ ruleId });
    expect(evs(held), 'no de-escalation, no all-clear while no data comes').toEqual(['firing:moderate', 'escalated:severe', 'stale:severe']);
    expect(held.state).toBe('firing');
    expect(held.events[2].at, 'stale after 15 min without a reading (3 × 5 min < 15 min)').toBe(new Date(start + 55 * MIN).toISOString());
    await rx.waitRequests(3);
    const stale = rx.bodies()[2];
    expect(stale.type).toBe('alarm.stale');
    expect(stale.alarm.message).toMatch(/^SENSOR STILL: /);
    expect(stale.alarm.severity).toBe('severe');

    // it reports again (0 mm): evaluation resumes, the all-clear comes after clear.for of fresh data
    const back = start + 6 * HOUR + 45 * MIN;
    for (let m = 0; m <= 20; m += 5) await h.send('silent', back + m * MIN, { rain_mm: 0 });
    const [after] = await h.alarms({ ruleId });
    expect(evs(after)).toEqual(['firing:moderate', 'escalated:severe', 'stale:severe', 'resolved:severe']);
    expect(after.resolvedAt).toBe(new Date(back + 15 * MIN).toISOString());
  });

  it('a gateway clock 70 min behind the network server: the level is re-stamped with the receive time, flagged clock_skew, and raises Meldestufe III', async () => {
    const start = stretch();
    const eui = '70b3d57ed00c10c4';
    await h.s.ok('POST', '/api/v1/devices', {
      id: 'skewed',
      name: 'Pegel mit falscher Uhr',
      model: 'generic',
      devEui: eui,
      params: { fieldMap: { level_cm: 'level' } },
    });
    const ruleId = await h.rule({ preset: 'pegel-meldestufen', thresholds: [550, 600, 650], scope: { deviceIds: ['skewed'] } });
    const uplink = (at: number, time: string, level: number, fCnt: number) => ({
      deduplicationId: crypto.randomUUID(),
      time,
      deviceInfo: { devEui: eui },
      fCnt,
      fPort: 2,
      data: '',
      object: { level },
      rxInfo: [{ gatewayId: '0016c001f153a14c', rssi: -80, snr: 7.5, nsTime: new Date(at).toISOString() }],
    });
    const at = start + 5 * MIN;
    clock.set(at);
    await publish(await h.mqtt(), `application/app-1/device/${eui}/event/up`, uplink(at, new Date(at - 70 * MIN).toISOString(), 660, 1));
    await s.alerting!.settle();
    const alarms = await waitFor(
      async () => {
        const l = await h.alarms({ ruleId });
        return l.length > 0 && l;
      },
      8000,
      'an alarm',
    );
    expect(alarms.map(evs)).toEqual([['firing:extreme']]);
    const r = await s.ok(
      'GET',
      `/api/v1/devices/skewed/readings?metric=level_cm&from=${new Date(start - 2 * HOUR).toISOString()}&to=${new Date(at + 1).toISOString()}`,
    );
    expect(r.points).toEqual([expect.objectContaining({ time: new Date(at).toISOString(), value: 660, flags: ['clock_skew'] })]);
    const d = await s.ok('GET', '/api/v1/devices/skewed');
    expect(d.clockSkew).toEqual({ seconds: -4200, at: new Date(at).toISOString() });

    // a time without a UTC offset is never read in the server's zone: rejected with its reason
    await publish(await h.mqtt(), `application/app-1/device/${eui}/event/up`, uplink(at + MIN, '2025-07-01T14:05:00', 661, 2));
    const rej = await waitFor(
      async () => {
        const x = await s.ok('GET', '/api/v1/rejected-uplinks?reason=bad_time&limit=100');
        return x.items.find((i: { deviceId?: string; message: string }) => i.message.includes('2025-07-01T14:05:00'));
      },
      8000,
      'the rejected uplink',
    );
    expect(rej.message).toMatch(/no UTC offset/);
  });

  it('a tipping bucket that counts nothing while its neighbour in the same catchment measures rain gets a device warning, cleared when it counts again', async () => {
    const start = stretch();
    const tags = { catchment: 'wieseck' };
    await h.s.ok('POST', '/api/v1/devices', { id: 'rg-wet', name: 'Regenschreiber Nord', model: 'generic', tags });
    await h.s.ok('POST', '/api/v1/devices', { id: 'rg-stuck', name: 'Regenschreiber Süd', model: 'generic', tags });
    await h.s.ok('POST', '/api/v1/devices', { id: 'rg-far', name: 'Regenschreiber Lahn', model: 'generic', tags: { catchment: 'lahn' } });
    for (let m = 5; m <= 30; m += 5) {
      await h.send('rg-wet', start + m * MIN, { rain_mm: 2.4 });
      await h.send('rg-stuck', start + m * MIN + 1000, { rain_mm: 0 });
      await h.send('rg-far', start + m * MIN + 2000, { rain_mm: 0 });
    }
    await h.advance(5 * MIN, 5 * MIN);
    const stuck = await h.s.ok('GET', '/api/v1/devices/rg-stuck');
    expect(stuck.warnings).toEqual([
      expect.objectContaining({ code: 'stuck_bucket', message: expect.stringContaining('Regenschreiber Nord (rg-wet) 14,4 mm') }),
    ]);
    expect((await h.s.ok('GET', '/api/v1/devices/rg-wet')).warnings, 'the gauge that measures rain').toEqual([]);
    expect((await h.s.ok('GET', '/api/v1/devices/rg-far')).warnings, 'a dry gauge in another catchment').toEqual([]);

    await h.send('rg-stuck', clock.t + MIN, { rain_mm: 3.2 }); // the funnel is clear again
    await h.advance(5 * MIN, 5 * MIN);
    expect((await h.s.ok('GET', '/api/v1/devices/rg-stuck')).warnings).toEqual([]);
  });

  it('a shadow rule switched to active while its alarm is open notifies that alarm at once, then every change', async () => {
    const start = stretch();
    const { rx, ruleId, rain } = await stormGauge('shadow-live', start, { mode: 'shadow' });
    await rain(0, 6); // 23.9 mm: moderate
    const [shadow] = await h.alarms({ ruleId });
    expect(shadow.mode).toBe('shadow');
    expect(rx.requests).toEqual([]);

    await s.ok('PATCH', `/api/v1/rules/${ruleId}`, { mode: 'active' });
    await s.alerting!.settle();
    await rx.waitRequests(1);
    expect(rx.bodies().map((b) => [b.type, b.alarm.id, b.alarm.severity, b.alarm.mode])).toEqual([['alarm.firing', shadow.id, 'moderate', 'active']]);
    const atom = await s.api('GET', '/api/v1/cap/alerts.atom');
    expect(atom.body, 'the live alarm is in the CAP feed').toContain(`/api/v1/cap/alerts/${shadow.id}.xml`);

    await rain(6, 8); // 25.766 mm: severe
    await rx.waitRequests(2);
    expect(rx.bodies().map((b) => [b.type, b.alarm.severity])).toEqual([
      ['alarm.firing', 'moderate'],
      ['alarm.escalated', 'severe'],
    ]);
    const [live] = await h.alarms({ ruleId });
    expect(live.id).toBe(shadow.id);
    expect(live.mode).toBe('active');
  });
});

describe('restart mid-storm over MQTT', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-missed-'));
  afterAll(async () => {
    await db?.drop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('180 tips counted while the server was down for 30 min are 36 mm of good rain and raise the alarm', async () => {
    db = await freshPgDatabase();
    const t0 = pastStart(3 * HOUR);
    const clock = new Clock(t0);
    const boot = async () => new Harness(await startSystem({ store: 'pg', dataDir, databaseUrl: db?.url, now: clock.now }), clock);
    const eui = '70b3d57ed0001234';
    const uplink = async (h: Harness, at: number, tips: number, fCnt: number) => {
      clock.set(at);
      await publish(await h.mqtt(), `application/app-1/device/${eui}/event/up`, {
        deduplicationId: crypto.randomUUID(),
        time: new Date(at).toISOString(),
        deviceInfo: { devEui: eui },
        fCnt,
        fPort: 2,
        data: '',
        object: { tips },
      });
      await h.s.alerting!.settle();
    };

    let h = await boot();
    let ruleId: string;
    try {
      await h.s.ok('POST', '/api/v1/devices', {
        id: 'rg-restart',
        name: 'Regenschreiber',
        model: 'generic',
        devEui: eui,
        params: { fieldMap: { counter: 'tips' }, mmPerTip: 0.2 },
      });
      ruleId = await h.rule({ preset: 'dwd-starkregen', scope: { deviceIds: ['rg-restart'] } });
      for (let i = 0; i < 3; i++) await uplink(h, t0 + i * 5 * MIN, 1000 + 5 * i, i + 1); // 2 mm
    } finally {
      h.close();
      await h.s.close();
    }

    clock.advance(30 * MIN); // down for 30 min while the gauge tipped 180 times
    h = await boot();
    try {
      const at = t0 + 40 * MIN;
      await uplink(h, at, 1010 + 180, 4);
      const r = await h.s.ok(
        'GET',
        `/api/v1/devices/rg-restart/readings?metric=rain_mm&from=${new Date(at).toISOString()}&to=${new Date(at + 1).toISOString()}`,
      );
      expect(r.points).toEqual([{ time: new Date(at).toISOString(), value: 36 }]); // good: no quality flags
      const alarms = await h.alarms({ ruleId: ruleId! });
      expect(alarms.map(evs)).toEqual([['firing:severe']]);
      expect(alarms[0].events[0].value).toBeCloseTo(38, 6); // 2 mm before the restart + 36 mm
    } finally {
      h.close();
      await h.s.close();
    }
  });
});

describe('a native gauge whose clock runs 70 min behind', () => {
  let s: TestSystem;
  beforeAll(async () => {
    s = await startSystem({ store: 'pg' }); // the real clock: the receive time is the broker's
  });
  afterAll(async () => {
    await s?.close();
  });

  it('is re-stamped with the receive time when it has a clock tolerance: S1 is an Unwetter in 1 h, not a 6 h warning', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'slow-clock', name: 'Regenschreiber', model: 'generic', params: { clockSkewToleranceS: 600 } });
    const { id: ruleId } = await s.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['slow-clock'] } });
    const c = await s.mqttClient();
    try {
      for (const v of S1) {
        await publish(c, 'devices/slow-clock/up', { time: new Date(Date.now() - 70 * MIN).toISOString(), readings: { rain_mm: v } });
        await s.alerting!.settle();
      }
      const a = await waitFor(
        async () => {
          const l = await s.ok('GET', `/api/v1/alarms?state=all&ruleId=${ruleId}`);
          return l.items[0]?.severity === 'severe' && l.items[0];
        },
        8000,
        'a severe alarm',
      );
      expect(a.window).toBe('1h');
      expect((await s.ok('GET', '/api/v1/devices/slow-clock')).clockSkew.seconds).toBeLessThanOrEqual(-4200);
    } finally {
      c.end(true);
    }
  });

  it('without a configured tolerance: 350 cm over a 300 cm Meldestufe alarms once two uplinks show the same offset, re-stamped and flagged clock_skew', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'slow-pegel', name: 'Pegel mit falscher Uhr', model: 'generic' });
    const { id: ruleId } = await s.ok('POST', '/api/v1/rules', {
      preset: 'pegel-meldestufen',
      thresholds: [300, 400, 500],
      scope: { deviceIds: ['slow-pegel'] },
    });
    const c = await s.mqttClient();
    try {
      // the gauge reports every few seconds in real time, its clock 70 min behind
      const sent: number[] = [];
      for (const level of [340, 350]) {
        if (sent.length) await new Promise((r) => setTimeout(r, 3000));
        sent.push(Date.now());
        await publish(c, 'devices/slow-pegel/up', { time: new Date(Date.now() - 70 * MIN).toISOString(), readings: { level_cm: level } });
        await s.alerting!.settle();
      }
      const a = await waitFor(
        async () => {
          const l = await s.ok('GET', `/api/v1/alarms?state=all&ruleId=${ruleId}`);
          return l.items[0];
        },
        8000,
        'an alarm',
      );
      expect([a.severity, a.value]).toEqual(['moderate', 350]);
      const d = await s.ok('GET', '/api/v1/devices/slow-pegel');
      expect(d.clockSkew.seconds, 'the operator sees the clock is 70 min behind').toBeCloseTo(-4200, -1);
      const r = await s.ok(
        'GET',
        `/api/v1/devices/slow-pegel/readings?metric=level_cm&from=${new Date(sent[0] - 2 * HOUR).toISOString()}&to=${new Date(Date.now() + MIN).toISOString()}`,
      );
      // the first uplink alone could be a late reading and keeps its time; the second is re-stamped
      expect(r.points.map((p: { value: number; flags?: string[] }) => [p.value, p.flags ?? []])).toEqual([
        [340, []],
        [350, ['clock_skew']],
      ]);
      expect(Math.abs(Date.parse(r.points[1].time) - sent[1])).toBeLessThan(MIN);
    } finally {
      c.end(true);
    }
  });

  it('a clock 70 min ahead: the first uplink is refused as from the future, the second, off by the same amount, is re-stamped and stored', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'fast-pegel', name: 'Pegel mit vorgehender Uhr', model: 'generic' });
    const c = await s.mqttClient();
    try {
      const t0 = Date.now();
      for (const level of [340, 350]) {
        if (level === 350) await new Promise((r) => setTimeout(r, 3000));
        await publish(c, 'devices/fast-pegel/up', { time: new Date(Date.now() + 70 * MIN).toISOString(), readings: { level_cm: level } });
      }
      const r = await waitFor(
        async () => {
          const x = await s.ok(
            'GET',
            `/api/v1/devices/fast-pegel/readings?metric=level_cm&from=${new Date(t0 - HOUR).toISOString()}&to=${new Date(Date.now() + 2 * HOUR).toISOString()}`,
          );
          return x.points.length > 0 && x;
        },
        8000,
        'the stored reading',
      );
      expect(r.points.map((p: { value: number; flags?: string[] }) => [p.value, p.flags ?? []])).toEqual([[350, ['clock_skew']]]);
      expect(Math.abs(Date.parse(r.points[0].time) - Date.now())).toBeLessThan(2 * MIN);
      const rej = await s.ok('GET', '/api/v1/rejected-uplinks?reason=bad_time&limit=100');
      expect(rej.items.filter((i: { deviceId?: string }) => i.deviceId === 'fast-pegel')).toHaveLength(1);
      expect((await s.ok('GET', '/api/v1/devices/fast-pegel')).clockSkew.seconds).toBeCloseTo(4200, -1);
    } finally {
      c.end(true);
    }
  });

  it('a stream of old readings slowed down in transit (100 ms apart, arriving over a second apart) keeps its own times', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'slow-stream', name: 'Pegel mit Rückstau', model: 'generic' });
    const c = await s.mqttClient();
    try {
      const t0 = Date.now() - HOUR;
      for (let i = 0; i < 3; i++) {
        if (i) await new Promise((r) => setTimeout(r, 1200));
        await publish(c, 'devices/slow-stream/up', { time: new Date(t0 + i * 100).toISOString(), readings: { level_cm: 100 } });
      }
      const r = await waitFor(
        async () => {
          const x = await s.ok(
            'GET',
            `/api/v1/devices/slow-stream/readings?metric=level_cm&from=${new Date(t0 - MIN).toISOString()}&to=${new Date(Date.now() + MIN).toISOString()}`,
          );
          return x.points.length === 3 && x;
        },
        8000,
        'three readings',
      );
      expect(r.points.map((p: { time: string; flags?: string[] }) => [Date.parse(p.time) - t0, p.flags ?? []])).toEqual([0, 1, 2].map((i) => [i * 100, []]));
    } finally {
      c.end(true);
    }
  });

  it('a backlog of old readings sent in a burst keeps its own times', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'backlog-pegel', name: 'Pegel nach Funkloch', model: 'generic' });
    const c = await s.mqttClient();
    try {
      const t0 = Date.now() - 3 * HOUR;
      for (let i = 0; i < 4; i++) {
        await publish(c, 'devices/backlog-pegel/up', { time: new Date(t0 + i * 15 * MIN).toISOString(), readings: { level_cm: 200 + i } });
      }
      const r = await waitFor(
        async () => {
          const x = await s.ok(
            'GET',
            `/api/v1/devices/backlog-pegel/readings?metric=level_cm&from=${new Date(t0 - MIN).toISOString()}&to=${new Date(Date.now() + MIN).toISOString()}`,
          );
          return x.points.length === 4 && x;
        },
        8000,
        'four readings',
      );
      expect(r.points.map((p: { time: string; flags?: string[] }) => [Date.parse(p.time) - t0, p.flags ?? []])).toEqual(
        [0, 1, 2, 3].map((i) => [i * 15 * MIN, []]),
      );
      expect((await s.ok('GET', '/api/v1/devices/backlog-pegel')).clockSkew).toBeNull();
    } finally {
      c.end(true);
    }
  });
});
