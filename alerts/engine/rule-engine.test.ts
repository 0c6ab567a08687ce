// Engine behaviour beyond the reference scenarios: offline, rate, `for`, shadow, late and future
// readings, restarts (hydrate), backtests, rule and scope changes.
import { describe, expect, it } from 'vitest';
import { Quality, type Transition } from '../types.ts';
import { blocks, brief, device, dryTail, engineWith, HOUR, MIN, reading, replay, rule, T0 } from './test-helpers.ts';

const scope = { deviceIds: ['g1'] };
const starkregen = rule({ preset: 'dwd-starkregen', scope });
const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.934, 0.7, 0.7, 0.7];
const rain = (t: number, v: number) => reading('g1', 'rain_mm', t, v);
const level = (t: number, v: number) => reading('g1', 'level_cm', t, v);
const kinds = (ts: Transition[]) => ts.map((t) => `${t.kind} ${t.severity}`);

describe('offline', () => {
  const pegel = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] }, 'pegel');
  const offline = rule({ name: 'stale', kind: 'offline', scope, levels: [{ severity: 'minor', window: '40m' }] }, 'off');
  // uplinks every 15 min at 560 cm (MS I); the three uplinks at +60, +75, +90 min are missing
  const times = [15, 30, 45, 105, 120].map((m) => T0 + m * MIN);
  const readings = times.map((t) => level(t, 560));

  it('a 3-uplink gap raises offline, holds the level alarm as stale, and the next uplink resolves offline only', () => {
    const ts = replay(engineWith([pegel, offline]), readings, T0, T0 + 2 * HOUR);
    expect(ts.map((t) => `${t.ruleId} ${t.kind} ${t.severity} ${t.value}/${t.threshold}@${t.window} +${(t.at - T0) / MIN}m`)).toEqual([
      'pegel firing moderate 560/550@undefined +15m',
      'off firing minor 2400/2400@40m +85m', // 40 min of silence after +45m, in seconds
      'pegel stale moderate 2700/2700@undefined +90m', // 3 × the 15-min uplink interval without a reading [domain S6]
      'off resolved minor 0/2400@40m +105m',
    ]);
    expect(ts.find((t) => t.ruleId === 'off')?.metric).toBe('uplink');
  });

  it('a flagged reading still counts as an uplink', () => {
    const e = engineWith([offline]);
    e.tick(T0);
    expect(kinds(e.tick(T0 + 40 * MIN))).toEqual(['firing minor']); // never seen: silence counts from first watch
    expect(kinds(e.onReading({ ...level(T0 + 41 * MIN, 9999), quality: Quality.SPIKE }, T0 + 41 * MIN))).toEqual(['resolved minor']);
  });

  it('a gauge never heard from keeps its offline alarm across a restart, and escalates on', () => {
    const two = rule(
      {
        name: 'stale',
        kind: 'offline',
        scope,
        levels: [
          { severity: 'minor', window: '40m' },
          { severity: 'severe', window: '2h' },
        ],
      },
      'off',
    );
    const before = engineWith([two]);
    before.tick(T0);
    expect(kinds(before.tick(T0 + 40 * MIN))).toEqual(['firing minor']);
    const after = engineWith([two]); // restart at +50 min: still nothing from g1
    after.hydrate([], [{ ruleId: 'off', deviceId: 'g1', severity: 'minor' }], []);
    expect(after.tick(T0 + 50 * MIN), 'no all-clear for a gauge that is still silent').toEqual([]);
    expect(kinds(after.tick(T0 + 130 * MIN))).toEqual(['escalated severe']); // 40 min + 80 min after the restart
    expect(kinds(after.onReading(level(T0 + 131 * MIN, 500), T0 + 131 * MIN))).toEqual(['resolved severe']);
  });

  it('after a restart a 10-min gauge is stale after 3 × 10 min, as before it (the cadence comes back with the last uplinks)', () => {
    const pegel = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] }, 'pegel');
    const e = engineWith([pegel]);
    const last16 = Array.from({ length: 16 }, (_, i) => ({ deviceId: 'g1', time: T0 - i * 10 * MIN })); // newest first, as stored
    e.hydrate([level(T0, 560)], [{ ruleId: 'pegel', deviceId: 'g1', severity: 'moderate' }], last16);
    expect(e.tick(T0 + 20 * MIN), 'a 20-min gap is no silence for a 10-min gauge').toEqual([]);
    expect(kinds(e.tick(T0 + 30 * MIN))).toEqual(['stale moderate']);
  });

  it('a backlog stamped 30 to 20 min ago is a gauge talking: it escalates the alarm, it is not held as stale', () => {
    const pegel = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] }, 'pegel');
    const e = engineWith([pegel]);
    const ts = [level(T0 - 30 * MIN, 560), level(T0 - 25 * MIN, 585), level(T0 - 20 * MIN, 612)].flatMap((r) => e.onReading(r, T0));
    expect(kinds(ts)).toEqual(['firing moderate', 'escalated severe']);
    expect(e.tick(T0 + 14 * MIN), 'silent for 14 min since it was last heard').toEqual([]);
    expect(kinds(e.tick(T0 + 15 * MIN))).toEqual(['stale severe']);
  });

  it('a late backlog fills its gap in the cadence instead of skewing it', () => {
    const pegel = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] }, 'pegel');
    const e = engineWith([pegel]);
    // 10-min uplinks; all but +0, +60 and +120 arrive late, after +120: the cadence stays 10 min, not 60
    const order = [0, 60, 120, 10, 20, 30, 40, 50, 70, 80, 90, 100, 110, 130];
    for (const m of order) e.onReading(level(T0 + m * MIN, 560), T0 + Math.max(m, 120) * MIN);
    expect(e.tick(T0 + 159 * MIN)).toEqual([]);
    expect(kinds(e.tick(T0 + 160 * MIN))).toEqual(['stale moderate']); // 30 min after +130
  });

  it('watches devices by tag and restores lastSeen from hydrate', () => {
    const byTag = rule({ name: 'stale', kind: 'offline', scope: { tags: { site: 'lahn' } }, levels: [{ severity: 'minor', window: '30m' }] });
    const e = engineWith([byTag], [device('a', { site: 'lahn' }), device('b', { site: 'ohm' })]);
    e.hydrate([], [], [{ deviceId: 'a', time: T0 - 20 * MIN }]);
    expect(e.tick(T0 + 9 * MIN)).toEqual([]);
    expect(e.tick(T0 + 10 * MIN).map((t) => t.deviceId)).toEqual(['a']);
  });
});

describe('rate of rise', () => {
  const rate = rule({ name: 'Anstieg', kind: 'rate', metric: 'level_cm', scope, levels: [{ severity: 'severe', window: '15m', threshold: 20 }] });
  const rise = (cmPerStep: number, steps: number) => Array.from({ length: steps + 1 }, (_, i) => 300 + i * cmPerStep);

  it.each([
    ['+20 cm in 15 min fires', rise(20 / 3, 3), ['firing severe']],
    ['+20 cm over 40 min does not', rise(20 / 8, 8), []],
  ])('%s', (_n, values, want) => {
    const ts = replay(engineWith([rate]), blocks('g1', 'level_cm', values, 5 * MIN), T0, T0 + 30 * MIN);
    expect(kinds(ts.filter((t) => t.kind === 'firing'))).toEqual(want);
  });

  it('reports the rise, and resolves as soon as the window slides past the old low (clear.for 0)', () => {
    const ts = replay(engineWith([rate]), blocks('g1', 'level_cm', [300, 305, 312, 320, 320], 5 * MIN), T0, T0 + HOUR);
    // at +21 the window starts 1 min after the 300 cm reading: the level then, 301 cm (interpolated), is its start
    expect(brief(ts)).toEqual(['firing severe 20/20@15m +20m', 'resolved severe 19/20@15m +21m']);
  });

  it('a rise across a radio gap longer than the window counts from the level at the window start (interpolated)', () => {
    const e = engineWith([rate]); // severe: 20 cm in 15 min
    expect(e.onReading(level(T0, 300), T0)).toEqual([]);
    // 20 min without an uplink, then 330 cm: 30 cm in 20 min, 22.5 cm of it in the last 15 min
    expect(brief(e.onReading(level(T0 + 20 * MIN, 330), T0 + 20 * MIN))).toEqual(['firing severe 22.5/20@15m +20m']);
    // spread over a day of silence the same rise is no alarm
    const slow = engineWith([rate]);
    slow.onReading(level(T0, 300), T0);
    expect(slow.onReading(level(T0 + 24 * HOUR, 330), T0 + 24 * HOUR)).toEqual([]);
  });

  it('below: a fall of 20 cm (threshold −20) fires', () => {
    const r = rule({
      name: 'Fall',
      kind: 'rate',
      metric: 'level_cm',
      comparison: 'below',
      scope,
      levels: [{ severity: 'severe', window: '15m', threshold: -20 }],
    });
    const ts = replay(engineWith([r]), blocks('g1', 'level_cm', [320, 310, 300], 5 * MIN), T0, T0 + 15 * MIN);
    expect(brief(ts)).toEqual(['firing severe -20/-20@15m +15m']);
  });
});

describe('for, shadow, quality', () => {
  const hot = (forDur: string, mode = 'active') =>
    rule({ name: 'hoch', kind: 'threshold', metric: 'level_cm', scope, levels: [{ severity: 'moderate', threshold: 100 }], for: forDur, mode });
  const minutes = (vals: number[]) => vals.map((v, i) => level(T0 + i * MIN, v));

  it.each([
    ['9 min above then below: nothing', [...Array(9).fill(120), 90], []],
    ['10 min above: fires after 10 min', Array(11).fill(120), ['firing moderate 120/100 +10m']],
    ['a dip resets the clock', [...Array(6).fill(120), 90, ...Array(11).fill(120)], ['firing moderate 120/100 +17m']],
  ])('for 10m — %s', (_n, vals, want) => {
    expect(brief(replay(engineWith([hot('10m')]), minutes(vals as number[]), T0, T0 + 20 * MIN))).toEqual(want);
  });

  it('a climb towards a higher level (pending its `for`) restarts the all-clear timer', () => {
    const two = rule({
      name: 'hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope,
      levels: [
        { severity: 'minor', threshold: 100 },
        { severity: 'moderate', threshold: 200 },
      ],
      for: '5m',
      clear: { for: '10m' },
    });
    // minor fires after 5 min at 150; a dip at +6, a climb to 250 (+10…+13, moderate pending), back below at +14
    const vals = [...Array(6).fill(150), 50, 50, 50, 50, 250, 250, 250, 250, ...Array(20).fill(50)];
    const ts = replay(engineWith([two]), minutes(vals), T0, T0 + 40 * MIN);
    expect(brief(ts)).toEqual(['firing minor 150/100 +5m', 'resolved minor 50/100 +24m']); // 10 min after +14, not after +6
  });

  it('below with hysteresis: fires at ≤ 3.3 V, holds up to 3.4 V, resolves above 3.4 V', () => {
    const low = rule({
      name: 'Batterie',
      kind: 'threshold',
      metric: 'battery_v',
      comparison: 'below',
      scope,
      levels: [{ severity: 'minor', threshold: 3.3 }],
      clear: { hysteresis: 0.1 },
    });
    const volts = [3.31, 3.3, 3.38, 3.4, 3.41].map((v, i) => reading('g1', 'battery_v', T0 + i * MIN, v));
    expect(brief(replay(engineWith([low]), volts, T0, T0 + 5 * MIN))).toEqual(['firing minor 3.3/3.3 +1m', 'resolved minor 3.41/3.3 +4m']);
  });

  it('a disabled rule raises nothing and lets its open alarm resolve', () => {
    const e = engineWith([hot('0m')]);
    expect(kinds(e.onReading(level(T0, 120), T0))).toEqual(['firing moderate']);
    e.setRules([{ ...hot('0m'), enabled: false }]);
    expect(e.onReading(level(T0 + MIN, 130), T0 + MIN)).toEqual([]);
    expect(kinds(e.tick(T0 + 2 * MIN))).toEqual(['resolved moderate']);
  });

  it('shadow rules mark every transition shadow', () => {
    const shadow = rule({ preset: 'dwd-starkregen', scope, mode: 'shadow' });
    const ts = replay(engineWith([shadow]), dryTail(blocks('g1', 'rain_mm', S1, 5 * MIN), 5 * MIN, T0 + 8 * HOUR), T0, T0 + 8 * HOUR);
    expect(ts.length).toBe(4);
    expect(ts.every((t) => t.mode === 'shadow')).toBe(true);
  });

  it('flagged readings are not evaluated', () => {
    const e = engineWith([hot('0m')]);
    expect(e.onReading({ ...level(T0, 999), quality: Quality.SPIKE }, T0)).toEqual([]);
    expect(kinds(e.onReading(level(T0 + MIN, 101), T0 + MIN))).toEqual(['firing moderate']);
  });

  it('a re-delivered reading (same time) is counted once', () => {
    const e = engineWith([starkregen]);
    expect(e.onReading(rain(T0, 10), T0)).toEqual([]);
    expect(e.onReading(rain(T0, 10), T0 + 1000)).toEqual([]);
  });
});

describe('stale hold: missing data never ends or lowers an alarm', () => {
  it('a silent rain gauge holds its severe alarm (one stale event); with readings again it clears after clear.for', () => {
    const e = engineWith([starkregen]);
    const storm = replay(e, blocks('g1', 'rain_mm', S1.slice(0, 8), 5 * MIN), T0, T0 + 40 * MIN);
    expect(kinds(storm)).toEqual(['firing moderate', 'escalated severe']);
    const silent = replay(e, [], T0 + 41 * MIN, T0 + 8 * HOUR); // 5-min cadence: stale after 15 min
    expect(brief(silent)).toEqual(['stale severe 900/900@1h +55m']);
    expect(silent[0].lastReadingAt).toBe(T0 + 40 * MIN);
    const back = replay(e, dryTail([rain(T0 + 8 * HOUR + 5 * MIN, 0)], 5 * MIN, T0 + 9 * HOUR), T0 + 8 * HOUR + MIN, T0 + 9 * HOUR);
    expect(brief(back)).toEqual(['resolved severe 0/25@1h +500m']); // 15 min of fresh data (from +485m) below every level
  });

  it("the expected interval is 3 × the median uplink interval (hourly gauge: 3 h), or the rule's own", () => {
    const hourly = blocks('g1', 'rain_mm', [0, 0, 20, 0, 0], HOUR); // fires at +3h, last reading +5h
    const e = engineWith([starkregen]);
    expect(kinds(replay(e, hourly, T0, T0 + 7 * HOUR + 59 * MIN))).toEqual(['firing moderate']);
    expect(kinds(e.tick(T0 + 8 * HOUR))).toEqual(['stale moderate']);
    const own = engineWith([rule({ preset: 'dwd-starkregen', scope, expectedInterval: '30m' })]);
    expect(brief(replay(own, hourly, T0, T0 + 4 * HOUR - MIN))).toEqual(['firing moderate 20/15@1h +180m', 'stale moderate 1800/1800@1h +210m']);
  });

  it('a backlog arriving in one burst is a live device: silence counts from when readings arrive', () => {
    const e = engineWith([starkregen]);
    const now = T0 + 2 * HOUR;
    for (const [m, v] of [
      [30, 10],
      [25, 8],
      [20, 0],
    ])
      e.onReading(rain(now - m * MIN, v), now); // stamped 30–20 min ago
    expect(kinds(e.tick(now + 14 * MIN))).toEqual([]);
    expect(brief(e.tick(now + 15 * MIN), now)).toEqual(['stale moderate 900/900@1h +15m']);
  });

  it('after a restart an alarm already stale says so only once', () => {
    const e = engineWith([starkregen]);
    e.hydrate([rain(T0, 30)], [{ ruleId: 'r1', deviceId: 'g1', severity: 'severe', stale: true }], [{ deviceId: 'g1', time: T0 }]);
    expect(e.tick(T0 + 3 * HOUR)).toEqual([]);
  });
});

describe('late and future readings', () => {
  it('a reading older than the longest window relative to now does not fire', () => {
    const e = engineWith([starkregen]);
    expect(e.onReading(rain(T0 - 7 * HOUR, 70), T0)).toEqual([]);
    expect(e.tick(T0 + MIN)).toEqual([]);
  });

  it('a late reading inside the window counts in the sums it belongs to', () => {
    const e = engineWith([starkregen]);
    e.onReading(rain(T0, 10), T0);
    expect(brief(e.onReading(rain(T0 - 30 * MIN, 16), T0 + MIN))).toEqual(['firing severe 26/25@1h +1m']);
  });

  it('an old backlog value does not fire a threshold rule', () => {
    const pegel = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] });
    expect(engineWith([pegel]).onReading(level(T0 - 2 * HOUR, 700), T0)).toEqual([]);
  });

  it('a future timestamp is clamped to now', () => {
    const e = engineWith([{ ...starkregen, expectedIntervalMs: 7 * 24 * HOUR }]); // not about silence
    const ts = e.onReading(rain(T0 + 3 * HOUR, 16), T0);
    expect(ts.map((t) => t.at)).toEqual([T0]);
    expect(kinds(e.tick(T0 + 61 * MIN))).toEqual([]); // clear.for pending: 1 h sum gone, 6 h sum 16 < 20
    expect(kinds(e.tick(T0 + 76 * MIN))).toEqual(['resolved moderate']); // counted at T0, so it left the 1 h window at T0+1h
  });

  it('several future readings clamped to the same instant all count', () => {
    const e = engineWith([starkregen]);
    expect(e.onReading(rain(T0 + 2 * MIN, 8), T0)).toEqual([]);
    expect(brief(e.onReading(rain(T0 + 4 * MIN, 8), T0))).toEqual(['firing moderate 16/15@1h +0m']);
    expect(brief(e.onReading(rain(T0 + 6 * MIN, 12), T0))).toEqual(['escalated severe 28/25@1h +0m']);
  });
});

describe('restart and backtest', () => {
  const readings = blocks('g1', 'rain_mm', S1, 5 * MIN);
  const whole = replay(engineWith([starkregen]), readings, T0, T0 + 8 * HOUR);

  it('hydrate continues a storm split across two engines: same transitions, no second firing', () => {
    const split = T0 + 32 * MIN; // after block 6: alarm open at moderate
    const first = replay(
      engineWith([starkregen]),
      readings.filter((r) => r.time <= split),
      T0,
      split,
    );
    const b = engineWith([starkregen]);
    const open = first
      .filter((t) => t.kind !== 'resolved')
      .slice(-1)
      .map((t) => ({ ruleId: t.ruleId, deviceId: t.deviceId, severity: t.severity }));
    b.hydrate(
      readings.filter((r) => r.time <= split),
      open,
      [{ deviceId: 'g1', time: T0 + 30 * MIN }],
    );
    const second = replay(
      b,
      readings.filter((r) => r.time > split),
      split + 1,
      T0 + 8 * HOUR,
    );
    expect(kinds(first)).toEqual(['firing moderate']);
    expect([...first, ...second]).toEqual(whole);
  });

  it('after a restart a level already past its threshold starts `for` at the first tick, not at the next reading', () => {
    const slow = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650], for: '10m' });
    const stored = [level(T0, 540), level(T0 + 15 * MIN, 562)]; // 15-min gauge; MS I pending since +15
    const e = engineWith([slow]);
    e.hydrate(stored, [], [{ deviceId: 'g1', time: T0 + 15 * MIN }]); // restart at +16, no open alarm yet
    const ts = replay(e, [level(T0 + 30 * MIN, 563)], T0 + 16 * MIN, T0 + 40 * MIN);
    expect(brief(ts)).toEqual(['firing moderate 562/550 +26m']); // pending from the first tick (+16), not from +30
  });

  it('backtest returns what the live engine raised', () => {
    const e = engineWith([starkregen]);
    expect(e.backtest(starkregen, [...readings].reverse(), T0, T0 + 8 * HOUR)).toEqual(whole);
  });

  it('backtest warms the windows with readings before `from`', () => {
    const e = engineWith([starkregen]);
    const from = T0 + 22 * MIN; // blocks 1–4 (21.4 mm) only fill the window
    expect(brief(e.backtest(starkregen, readings, from, T0 + HOUR))).toEqual(['firing moderate 22.65/15@1h +25m', 'escalated severe 25.766/25@1h +40m']);
  });
});

describe('rule and scope changes', () => {
  it('an edited rule whose new level already holds fires at once for a gauge without an alarm', () => {
    const pegel = (ms1: number) => rule({ preset: 'pegel-meldestufen', scope, thresholds: [ms1, 600, 650] });
    const e = engineWith([pegel(550)]);
    expect(e.onReading(level(T0, 530), T0)).toEqual([]);
    expect(brief(e.setRules([pegel(520)], T0 + 2 * MIN))).toEqual(['firing moderate 530/520 +2m']); // not at the next reading
  });

  it('a changed rule keeps its open alarm (no second firing) and re-judges it; a removed rule is dropped', () => {
    const e = engineWith([starkregen]);
    expect(kinds(e.onReading(rain(T0, 16), T0))).toEqual(['firing moderate']);
    e.setRules([{ ...starkregen, name: 'renamed', mode: 'shadow' }]);
    expect(kinds(e.onReading(rain(T0 + MIN, 10), T0 + MIN))).toEqual(['escalated severe']);
    e.setRules([]);
    expect(e.tick(T0 + 3 * HOUR)).toEqual([]);
  });

  it('tags scope: only matching devices are evaluated; a device re-tagged out of the scope closes its alarm, never an all-clear', () => {
    const r = rule({ preset: 'dwd-starkregen', scope: { tags: { catchment: 'wieseck' } } });
    const e = engineWith([r], [device('g1', { catchment: 'wieseck' }), device('g2', { catchment: 'lahn' })]);
    expect(e.onReading(reading('g2', 'rain_mm', T0, 30), T0)).toEqual([]);
    expect(kinds(e.onReading(rain(T0, 30), T0))).toEqual(['firing severe']);
    expect(e.setDevices([device('g1', { catchment: 'lahn' })], T0 + MIN)).toEqual([
      expect.objectContaining({ kind: 'closed', closedReason: 'device_changed', deviceId: 'g1', severity: 'severe', value: 30 }),
    ]);
    expect(kinds(e.tick(T0 + 30 * MIN))).toEqual([]); // no all-clear later either
    expect(e.onReading(rain(T0 + 31 * MIN, 30), T0 + 31 * MIN)).toEqual([]); // nor a new alarm from this rule
  });
});

describe('combined rules: a forecast confirmed by a gauge of the same catchment', () => {
  const combined = rule(
    {
      name: 'Starkregen Lahn-Nord',
      kind: 'threshold',
      metric: 'forecast_60min_mm',
      scope: { tags: { source: 'dwd-nowcast' } },
      levels: [
        { severity: 'minor', threshold: 20 },
        { severity: 'moderate', threshold: 20, and: { metric: 'rain_mm', kind: 'accumulation', window: '15m', threshold: 5 } },
      ],
    },
    'fc',
  );
  const devices = [
    device('catchment-lahn', { source: 'dwd-nowcast', catchment: 'lahn' }),
    device('gauge-lahn', { catchment: 'lahn' }),
    device('gauge-far', { catchment: 'wieseck' }),
  ];
  const fc = (t: number, v: number) => reading('catchment-lahn', 'forecast_60min_mm', t, v);

  it('the forecast alone raises minor; the gauge in the catchment escalates the same alarm to moderate', () => {
    const e = engineWith([combined], devices);
    expect(kinds(e.onReading(fc(T0, 26), T0))).toEqual(['firing minor']);
    // rain at a gauge of another catchment confirms nothing
    expect(e.onReading(reading('gauge-far', 'rain_mm', T0 + 5 * MIN, 9), T0 + 5 * MIN)).toEqual([]);
    e.onReading(fc(T0 + 5 * MIN, 27), T0 + 5 * MIN); // a new run every 5 min
    e.onReading(fc(T0 + 10 * MIN, 26), T0 + 10 * MIN);
    expect(e.onReading(reading('gauge-lahn', 'rain_mm', T0 + 10 * MIN, 3), T0 + 10 * MIN)).toEqual([]);
    const up = e.onReading(reading('gauge-lahn', 'rain_mm', T0 + 15 * MIN, 3), T0 + 15 * MIN);
    expect(up).toEqual([
      expect.objectContaining({ kind: 'escalated', severity: 'moderate', previousSeverity: 'minor', deviceId: 'catchment-lahn', value: 26 }),
    ]);
  });

  it('the gauge alone raises nothing, and a forecast arriving after the gauge confirmed goes straight to moderate', () => {
    const e = engineWith([combined], devices);
    expect(e.onReading(reading('gauge-lahn', 'rain_mm', T0, 6), T0)).toEqual([]);
    expect(kinds(e.onReading(fc(T0 + 5 * MIN, 22), T0 + 5 * MIN))).toEqual(['firing moderate']);
  });

  it('a level with a confirming condition is no duplicate of the same threshold without one', () => {
    expect(combined.levels.map((l) => `${l.severity}${l.and ? '+and' : ''}`)).toEqual(['minor', 'moderate+and']);
  });
});
