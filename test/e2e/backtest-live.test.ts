// Backtest and live evaluation are the same code and agree: every scenario is sent live over MQTT at its
// own time (the scheduler ticking each minute, as a running system does), then the stored readings are
// backtested through the API, and the backtest must list exactly the transitions the live alarm recorded.
// [docs/api.md Endpoints (backtest), issue 10 "Backtest and live evaluation go through the same code and agree"]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart } from '../helpers/alarms.ts';
import { startSystem } from '../helpers/system.ts';

const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7]; // KOSTRA T=10 Euler II [domain S1]
const S2 = [0.9, 1.2, 1.9, 7.0, 0.7, 0.7, 0.467, 0.467, 0.467, 0.367, 0.367, 0.366]; // T=1, 14.9 mm [domain S2]

type Uplink = { offsetMin: number; readings: Record<string, number> };
const every = (stepMin: number, metric: string, values: number[], startMin = 0): Uplink[] =>
  values.map((v, i) => ({ offsetMin: startMin + (i + 1) * stepMin, readings: { [metric]: v } }));

/** 540 → 612 cm and back at 1 cm per 5 min, ±2 cm noise: crosses MS I and MS II several times [domain S6] */
function meldestufenWave(): number[] {
  const truth = [...Array.from({ length: 37 }, (_, i) => 540 + 2 * i), ...Array.from({ length: 37 }, (_, i) => 612 - 2 * i)];
  return truth.map((v, i) => v + (i % 2 ? -2 : 2));
}

interface Scenario {
  name: string;
  rule: Record<string, unknown>;
  uplinks: Uplink[];
  /** minutes after the start the live system keeps ticking */
  untilMin: number;
  /** what the scenario is about: the live alarm must show these (kind:severity) */
  expectKinds: string[];
}

const scenarios: Scenario[] = [
  {
    name: 'S1 Euler II: Starkregen, Unwetter, back to markant, all-clear',
    rule: { preset: 'dwd-starkregen' },
    uplinks: every(5, 'rain_mm', [...S1, ...Array(72).fill(0)]), // the gauge reports 0 mm once it stops raining
    untilMin: 7 * 60,
    expectKinds: ['firing:moderate', 'escalated:severe', 'deescalated:moderate', 'resolved:moderate'],
  },
  {
    name: 'S2 plus one tip: 15.1 mm is markant',
    rule: { preset: 'dwd-starkregen' },
    uplinks: [...every(3, 'rain_mm', S2), { offsetMin: 40, readings: { rain_mm: 0.2 } }, ...every(5, 'rain_mm', Array(16).fill(0), 40)],
    untilMin: 2 * 60,
    expectKinds: ['firing:moderate', 'resolved:moderate'],
  },
  {
    name: 'S6 Meldestufen with noise and 5 cm hysteresis',
    rule: { preset: 'pegel-meldestufen', thresholds: [550, 600, 650] },
    uplinks: every(5, 'level_cm', meldestufenWave()),
    untilMin: 7 * 60,
    expectKinds: ['firing:moderate', 'escalated:severe', 'deescalated:moderate', 'resolved:moderate'],
  },
  {
    name: 'Pegelanstieg: 30 cm in 1 h, over when the rise stops',
    rule: { name: 'Anstieg', kind: 'rate', metric: 'level_cm', levels: [{ severity: 'severe', window: '1h', threshold: 30 }], clear: { for: '10m' } },
    uplinks: every(10, 'level_cm', [300, 305, 311, 318, 324, 331, 338, 340, 340, 339, 339, 338, 338, 338]),
    untilMin: 4 * 60,
    expectKinds: ['firing:severe', 'resolved:severe'],
  },
  {
    name: 'Pegelanstieg across a radio gap at the start of the backtest window: the level there is interpolated from the reading before it',
    rule: {
      name: 'Anstieg nach Funkloch',
      kind: 'rate',
      metric: 'level_cm',
      levels: [{ severity: 'severe', window: '1h', threshold: 30 }],
      clear: { for: '10m' },
    },
    // 200 cm 90 min before the backtest `from` (before its hour of look-back), then nothing until 260 cm:
    // at +5 min the level at the window's start (−55 min) is 222 cm, a rise of 38 cm
    uplinks: [{ offsetMin: -90, readings: { level_cm: 200 } }, ...every(10, 'level_cm', Array(10).fill(260), -5)],
    untilMin: 2 * 60,
    expectKinds: ['firing:severe', 'resolved:severe'],
  },
  {
    name: 'issue 10 item 4: at 15-min sampling 500 → 560 → 562 is Meldestufe I at once, 480 → 600 → 500 is a real crest (MS II)',
    rule: { preset: 'pegel-meldestufen', thresholds: [550, 600, 650] },
    uplinks: every(15, 'level_cm', [500, 560, 562, 540, 520, 480, 600, 500, 480, 470]),
    untilMin: 4 * 60,
    expectKinds: ['firing:moderate', 'resolved:moderate', 'firing:severe', 'resolved:severe'],
  },
  {
    name: 'a one-sample blip at 5-min sampling is never evaluated, live or in a backtest',
    rule: { preset: 'pegel-meldestufen', thresholds: [550, 600, 650] },
    uplinks: every(5, 'level_cm', [500, 502, 503, 620, 504, 505, 506, 560, 561, 562, 540, 530, 520, 510]),
    untilMin: 3 * 60,
    expectKinds: ['firing:moderate', 'resolved:moderate'],
  },
  {
    name: 'offline: three missing 15-min uplinks, then the gauge is back',
    rule: { name: 'Funkstille', kind: 'offline', levels: [{ severity: 'minor', window: '40m' }] },
    uplinks: [15, 30, 45, 105, 120].map((m) => ({ offsetMin: m, readings: { level_cm: 420 } })),
    untilMin: 125,
    expectKinds: ['firing:minor', 'resolved:minor'],
  },
];

describe('backtest agrees with live evaluation over MQTT', () => {
  // the scenarios, then the combined rule's 3 h (all in the past: future readings are refused)
  const span = scenarios.reduce((s, x) => s + x.untilMin + 60, 0) * MIN + 3 * HOUR;
  const clock = new Clock(pastStart(span + HOUR));
  let h: Harness;
  beforeAll(async () => {
    h = new Harness(await startSystem({ store: 'pg', now: clock.now }), clock);
  });
  afterAll(async () => {
    h?.close();
    await h?.s.close();
  });

  /** One scheduler pass at every whole minute before each uplink, as the backtest ticks its data time. */
  async function tickUntil(t: number, next: { t: number }) {
    for (; next.t < t; next.t += MIN) {
      h.clock.set(next.t);
      await h.s.alerting?.tick();
      await h.s.alerting?.settle();
    }
  }

  it.each(scenarios.map((s, i) => [s.name, i] as const))('%s', async (_name, i) => {
    const sc = scenarios[i];
    const device = `bt-${i}`;
    const start = Math.ceil((clock.t + 30 * MIN) / HOUR) * HOUR;
    await h.device(device);
    const ruleId = await h.rule({ ...sc.rule, scope: { deviceIds: [device] } });
    const next = { t: start };
    for (const u of sc.uplinks) {
      const at = start + u.offsetMin * MIN;
      await tickUntil(at, next);
      await h.send(device, at, u.readings);
    }
    await tickUntil(start + sc.untilMin * MIN + 1, next);

    const live = (await h.alarms({ ruleId })).flatMap((a) => a.events.map((e) => ({ kind: e.kind, severity: e.severity, at: e.at, value: e.value })));
    expect(live.map((e) => `${e.kind}:${e.severity}`)).toEqual(sc.expectKinds);
    const bt = await h.s.ok('POST', `/api/v1/rules/${ruleId}/backtest`, {
      from: new Date(start).toISOString(),
      to: new Date(start + sc.untilMin * MIN).toISOString(),
    });
    const replayed = bt.transitions.map((t: { kind: string; severity: string; at: string; value: number }) => ({
      kind: t.kind,
      severity: t.severity,
      at: t.at,
      value: t.value,
    }));
    expect(replayed).toEqual(live);
  });

  it('a combined rule (a level confirmed by another station of the catchment): the backtest replays the confirming gauge too', async () => {
    const start = Math.ceil((clock.t + 30 * MIN) / HOUR) * HOUR;
    const [watched, gauge] = ['bt-combined-level', 'bt-combined-gauge'];
    for (const id of [watched, gauge])
      await h.s.ok('POST', '/api/v1/devices', { id, name: id, model: 'generic', location: { lat: 50.58, lon: 8.67 }, tags: { catchment: 'bt-c' } });
    const ruleId = await h.rule({
      name: 'Pegel bestätigt durch Regen',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [watched] },
      levels: [
        { severity: 'minor', threshold: 500 },
        { severity: 'moderate', threshold: 500, and: { metric: 'rain_mm', kind: 'accumulation', window: '15m', threshold: 5 } },
      ],
      clear: { hysteresis: 0, for: '1m' },
      expectedInterval: '7d',
    });
    const level = [490, 494, 498, 500, 502, 504, 506, 508, 510, 508, 506, 504, 502, 500, 496, 492, 488, 484, 480, 478, 476, 474];
    const rain = level.map((_, i) => (i === 6 || i === 7 ? 3 : 0)); // 6 mm in 10 min on the gauge, while the level is above 500
    const next = { t: start };
    for (let i = 0; i < level.length; i++) {
      const at = start + (i + 1) * 5 * MIN;
      await tickUntil(at, next);
      await h.send(watched, at, { level_cm: level[i] });
      await h.send(gauge, at, { rain_mm: rain[i] });
    }
    const end = start + (level.length + 6) * 5 * MIN;
    await tickUntil(end + 1, next);

    const live = (await h.alarms({ ruleId })).flatMap((a) => a.events.map((e) => ({ kind: e.kind, severity: e.severity, at: e.at, value: e.value })));
    expect(live.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:minor', 'escalated:moderate', 'resolved:moderate']);
    const bt = await h.s.ok('POST', `/api/v1/rules/${ruleId}/backtest`, { from: new Date(start).toISOString(), to: new Date(end).toISOString() });
    const replayed = bt.transitions.map((t: { kind: string; severity: string; at: string; value: number }) => ({
      kind: t.kind,
      severity: t.severity,
      at: t.at,
      value: t.value,
    }));
    expect(replayed).toEqual(live);
    expect(bt.alarms).toEqual([expect.objectContaining({ deviceId: watched, maxSeverity: 'moderate' })]);
  });
});
