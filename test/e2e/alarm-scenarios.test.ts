// Reference scenarios (docs/reference/domain.md S1–S6) and the rule kinds end to end: readings are published over MQTT as
// native uplinks with explicit times, stored, evaluated by the live engine, and the alarms are read back
// through the HTTP API. [docs/topics.md, docs/api.md]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlarmView, Clock, Harness, HOUR, MIN, pastStart, receiver, webhook } from '../helpers/alarms.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

type Readings = Record<string, number>;
interface Ctx {
  h: Harness;
  dev: string;
  start: number;
  /** alarms per rule of the scenario, oldest first */
  alarms: AlarmView[][];
  extra: Record<string, unknown>;
}
type Check = (c: Ctx) => void | Promise<void>;

interface Scenario {
  name: string;
  params?: Record<string, unknown>;
  rules: Array<Record<string, unknown>>;
  /** [minutes after the scenario start, readings] — one MQTT uplink each */
  uplinks: Array<[number, Readings]>;
  /** after the uplinks: e.g. a gap with scheduler passes */
  then?: (c: Ctx) => Promise<void>;
  setup?: (c: Ctx) => Promise<void>;
  expect: Check[];
}

// ---- assertion builders ----
const evs = (a: AlarmView) => a.events.map((e) => `${e.kind}:${e.severity}`);
/** exactly one alarm for rule `i`, with exactly this event history (kind:severity) */
const history =
  (events: string[], i = 0): Check =>
  ({ alarms }) => {
    expect(alarms[i].map(evs), `alarms of rule ${i}`).toEqual([events]);
  };
const noAlarm =
  (i = 0): Check =>
  ({ alarms }) =>
    expect(alarms[i], `alarms of rule ${i}`).toEqual([]);
const state =
  (s: string, i = 0): Check =>
  ({ alarms }) =>
    expect(alarms[i].at(-1)?.state).toBe(s);
const never =
  (severity: string, i = 0): Check =>
  ({ alarms }) =>
    expect(alarms[i].flatMap((a) => a.events.map((e) => e.severity))).not.toContain(severity);
/** the value the engine decided with at the event of that kind (the window sum, the level, the rise) */
const valueAt =
  (kind: string, value: number, i = 0): Check =>
  ({ alarms }) =>
    expect(alarms[i][0].events.find((e) => e.kind === kind)?.value).toBeCloseTo(value, 6);
const startedAtMinute =
  (m: number, i = 0): Check =>
  ({ alarms, start }) =>
    expect(alarms[i][0].startedAt).toBe(new Date(start + m * MIN).toISOString());

// ---- data ----
const every5 = (blocks: number[], metric = 'rain_mm', from = 0): Array<[number, Readings]> => blocks.map((v, i) => [from + 5 * (i + 1), { [metric]: v }]);
const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7]; // KOSTRA T=10, 60 min, Euler II
const S2 = [0.9, 1.2, 1.9, 7.0, 0.7, 0.7, 0.467, 0.467, 0.467, 0.367, 0.367, 0.367]; // T=1, sum 14.9
const S3 = [2.2, 3.0, 4.7, 17.2, 1.65, 1.65, 1.167, 1.167, 1.167, 0.9, 0.9, 0.9]; // T=30, sum 36.6
const tips = (counts: number[]) => counts.map((n) => Number((n * 0.2).toFixed(1)));
const TIPS_74 = [5, 6, 9, 35, 4, 3, 2, 3, 2, 2, 2, 1]; // S2 quantised by a 0.2 mm gauge: 14.8 mm
const TIPS_75 = [5, 6, 9, 35, 4, 3, 2, 3, 2, 2, 2, 2]; // one tip more: 15.0 mm
const starkregen = { preset: 'dwd-starkregen' };
const meldestufen = { preset: 'pegel-meldestufen', thresholds: [550, 600, 650] };

/** Lahn Gießen-Klärwerk Jan 2024 shape: rises through MS I and II, lingers at each line with ±2 cm noise,
 *  peaks at 648 cm, and falls back. Every 10 min; seeded noise so a failure is reproducible. */
function hydrograph(): Array<[number, Readings]> {
  let seed = 20240104;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31) * 4 - 2;
  };
  const legs: Array<[level: number, minutes: number]> = [
    [500, 0],
    [550, 60],
    [550, 90],
    [600, 60],
    [600, 90],
    [648, 60],
    [648, 20],
    [600, 60],
    [600, 60],
    [550, 60],
    [550, 60],
    [520, 60],
  ];
  const out: Array<[number, Readings]> = [];
  let t = 0;
  for (let i = 1; i < legs.length; i++) {
    const [from] = legs[i - 1];
    const [to, dur] = legs[i];
    for (let m = 10; m <= dur; m += 10) {
      const trend = from + ((to - from) * m) / dur;
      out.push([t + m, { level_cm: Math.min(648, Math.round((trend + noise()) * 10) / 10) }]);
    }
    t += dur;
  }
  return out;
}

const MOUNT_MM = 9000; // 900 cm above gauge zero, dead zone 30 cm [domain S6 sensor layer]
const dist = (levelCm: number) => ({ distance_mm: MOUNT_MM - levelCm * 10 });

const scenarios: Scenario[] = [
  {
    name: 'S1 KOSTRA T=10 Euler II: one alarm, moderate then severe (28.8 mm/1 h)',
    rules: [starkregen],
    uplinks: every5(S1),
    expect: [history(['firing:moderate', 'escalated:severe']), startedAtMinute(20), valueAt('firing', 21.4), valueAt('escalated', 25.766)],
  },
  {
    name: 'S2 KOSTRA T=1: 14.9 mm fires nothing',
    rules: [starkregen],
    uplinks: every5(S2),
    expect: [noAlarm()],
  },
  {
    name: 'S2 + one 0.2 mm tip (15.1 mm) fires moderate',
    rules: [starkregen],
    uplinks: [...every5(S2), [60.5, { rain_mm: 0.2 }]],
    // the blocks as published sum to 14.902 (0.467 × 3), one tip more to 15.102
    expect: [history(['firing:moderate']), valueAt('firing', 15.102)],
  },
  {
    name: 'S2 boundary on a 0.2 mm gauge: 74 tips (14.8 mm) fire nothing',
    rules: [starkregen],
    uplinks: every5(tips(TIPS_74)),
    expect: [noAlarm()],
  },
  {
    name: 'S2 boundary on a 0.2 mm gauge: 75 tips (15.0 mm) fire moderate',
    rules: [starkregen],
    uplinks: every5(tips(TIPS_75)),
    expect: [history(['firing:moderate']), valueAt('firing', 15), startedAtMinute(60)],
  },
  {
    name: 'S3 KOSTRA T=30 Euler II: severe at once (27.1 mm after 20 min), stays severe at 36.6',
    rules: [starkregen],
    uplinks: every5(S3),
    expect: [history(['firing:severe']), valueAt('firing', 27.1)],
  },
  {
    name: 'S4 KOSTRA T=100 D=240: 48 × 1.375 mm → extreme through the 6 h window, one alarm',
    rules: [starkregen],
    uplinks: every5(Array(48).fill(1.375)),
    // 1 h alone never passes 16.5 mm; 6 h: 20 (moderate) → 35.75 (severe) → 60.5 (extreme)
    expect: [
      history(['firing:moderate', 'escalated:severe', 'escalated:extreme']),
      valueAt('escalated', 35.75),
      ({ alarms }) => expect(alarms[0][0].severity).toBe('extreme'),
    ],
  },
  {
    name: 'S6 Meldestufen gauge replay to 648 cm with ±2 cm noise: MS I and II, no MS III, no flapping',
    rules: [meldestufen],
    uplinks: hydrograph(),
    expect: [history(['firing:moderate', 'escalated:severe', 'deescalated:moderate', 'resolved:moderate']), never('extreme')],
  },
  {
    name: 'S6 sensor layer: a one-sample +120 cm spike (distance) is flagged and does not fire MS III',
    params: { mountHeightMm: MOUNT_MM, deadZoneMm: 300 },
    rules: [meldestufen],
    uplinks: [
      [0, dist(560)],
      [10, dist(563)],
      [20, dist(566)],
      [30, dist(686)],
      [40, dist(569)],
      [50, dist(571)],
    ],
    expect: [
      history(['firing:moderate']),
      never('extreme'),
      async ({ h, dev, start }) => {
        const r = await h.s.ok(
          'GET',
          `/api/v1/devices/${dev}/readings?metric=level_cm&from=${new Date(start - MIN).toISOString()}&to=${new Date(start + HOUR).toISOString()}`,
        );
        const spike = r.points.find((p: { value: number }) => p.value === 686);
        expect(spike?.quality, 'the spike is stored, flagged').toBeGreaterThan(0);
      },
    ],
  },
  {
    name: 'offline (2m): a gap raises "offline" and does not resolve the open level alarm; the next uplink ends it',
    rules: [meldestufen, { name: 'Funkstille', kind: 'offline', levels: [{ severity: 'minor', window: '2m' }] }],
    uplinks: [
      [0, { level_cm: 560 }],
      [1, { level_cm: 561 }],
      [2, { level_cm: 562 }],
      [3, { level_cm: 561 }],
    ],
    then: async ({ h, start, extra }) => {
      await h.advance(90_000, 30_000); // 1.5 min of silence: nothing yet
      extra.before = await h.alarms({ ruleId: extra.rule1 as string });
      await h.advance(20 * MIN, 30_000); // far beyond the level rule's clear.for (10m)
      extra.during = await h.alarms({ ruleId: extra.rule0 as string });
      await h.send(extra.dev as string, start + 30 * MIN, { level_cm: 562 });
    },
    expect: [
      ({ extra }) => expect(extra.before).toEqual([]),
      ({ extra }) => expect((extra.during as AlarmView[]).map((a) => a.state)).toEqual(['firing']),
      history(['firing:moderate', 'stale:moderate'], 0), // the silent gauge's alarm holds [domain S6 "3-uplink gap"]
      state('firing', 0),
      history(['firing:minor', 'resolved:minor'], 1),
      ({ alarms }) => expect(alarms[1][0].events[0].value, 'seconds of silence when it fired').toBeGreaterThanOrEqual(120),
    ],
  },
  {
    name: 'rate: +20 cm in 15 min fires',
    rules: [{ name: 'Anstieg', kind: 'rate', metric: 'level_cm', levels: [{ severity: 'moderate', window: '15m', threshold: 20 }] }],
    uplinks: [
      [0, { level_cm: 100 }],
      [5, { level_cm: 100 }],
      [10, { level_cm: 107 }],
      [15, { level_cm: 114 }],
      [20, { level_cm: 120 }],
    ],
    expect: [history(['firing:moderate']), valueAt('firing', 20), startedAtMinute(20)],
  },
  {
    name: 'rate: the same +20 cm over 40 min does not fire',
    rules: [{ name: 'Anstieg', kind: 'rate', metric: 'level_cm', levels: [{ severity: 'moderate', window: '15m', threshold: 20 }] }],
    uplinks: Array.from({ length: 9 }, (_, i) => [i * 5, { level_cm: 100 + i * 2.5 }] as [number, Readings]),
    expect: [noAlarm()],
  },
  {
    name: 'shadow mode: the alarm is recorded, a matching route gets nothing',
    rules: [{ ...starkregen, mode: 'shadow' }],
    uplinks: every5(S1),
    setup: async ({ h, dev, extra }) => {
      const rx = await receiver();
      extra.rx = rx;
      await h.route({ name: 'shadow-check', match: { minSeverity: 'minor', deviceIds: [dev] }, targets: [webhook(rx.url)] });
    },
    expect: [
      history(['firing:moderate', 'escalated:severe']),
      async ({ h, alarms, extra }) => {
        const rx = extra.rx as Awaited<ReturnType<typeof receiver>>;
        expect(alarms[0][0].mode).toBe('shadow');
        expect(alarms[0][0].notifications).toEqual([]);
        const shadow = await h.s.ok('GET', `/api/v1/alarms?mode=shadow&deviceId=${extra.dev}`);
        expect(shadow.items.map((a: { id: string }) => a.id)).toEqual([alarms[0][0].id]);
        const active = await h.s.ok('GET', `/api/v1/alarms?mode=active&state=all&deviceId=${extra.dev}`);
        expect(active.items).toEqual([]);
        await new Promise((r) => setTimeout(r, 300));
        expect(rx.requests).toEqual([]);
        await rx.close();
      },
    ],
  },
];

const SPAN = 12 * HOUR; // each scenario has its own stretch of time and its own device

describe.each(['pglite', 'pg'] as const)('alarm scenarios over MQTT on %s', (store) => {
  let s: TestSystem;
  let h: Harness;
  const base = pastStart(SPAN * (scenarios.length + 1));
  const clock = new Clock(base);
  beforeAll(async () => {
    s = await startSystem({ store, now: clock.now });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
  });

  it.each(scenarios.map((sc, i) => ({ ...sc, i })))('$name', async (sc) => {
    const start = base + (sc.i + 1) * SPAN;
    const dev = `sc${sc.i}`;
    clock.set(start);
    const ctx: Ctx = { h, dev, start, alarms: [], extra: { dev } };
    await h.device(dev, sc.params ?? {});
    const ruleIds: string[] = [];
    for (const r of sc.rules) ruleIds.push(await h.rule({ ...r, scope: { deviceIds: [dev] } }));
    ruleIds.forEach((id, k) => (ctx.extra[`rule${k}`] = id));
    await sc.setup?.(ctx);
    for (const [m, readings] of sc.uplinks) await h.send(dev, start + m * MIN, readings);
    await sc.then?.(ctx);
    for (const id of ruleIds) ctx.alarms.push(await h.alarms({ ruleId: id }));
    for (const check of sc.expect) await check(ctx);
  });
});
