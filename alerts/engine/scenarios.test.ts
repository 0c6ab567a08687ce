// Reference scenarios S1–S6 from docs/reference/domain.md, fed to the engine with explicit times.
import { describe, expect, it } from 'vitest';
import type { Transition } from '../types.ts';
import { blocks, brief, dryTail, engineWith, HOUR, MIN, reading, replay, rule, T0 } from './test-helpers.ts';

const scope = { deviceIds: ['g1'] };
const starkregen = rule({ preset: 'dwd-starkregen', scope });
const dauerregen = rule({ preset: 'dwd-dauerregen', scope });

// Euler II 5-min blocks, KOSTRA-DWD-2020 cell 117111 [domain §3.3]
const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.934, 0.7, 0.7, 0.7]; // T=10 a, 28.8 mm
const S2 = [0.9, 1.2, 1.9, 7.0, 0.7, 0.7, 0.467, 0.467, 0.466, 0.367, 0.367, 0.366]; // T=1 a, 14.9 mm
const S3 = [2.2, 3.0, 4.7, 17.2, 1.65, 1.65, 1.167, 1.167, 1.167, 0.9, 0.9, 0.9]; // T=30 a, 36.6 mm

const rain = (values: number[], stepMs: number, start = T0) => blocks('g1', 'rain_mm', values, stepMs, start);
const run = (values: number[], stepMs: number, hours = 8, r = starkregen) =>
  replay(engineWith([r]), dryTail(rain(values, stepMs), stepMs, T0 + hours * HOUR), T0, T0 + hours * HOUR);
const kinds = (ts: Transition[]) => ts.map((t) => `${t.kind} ${t.severity}`);
const peak = (ts: Transition[]) => ts.reduce((s, t) => Math.max(s, ['minor', 'moderate', 'severe', 'extreme'].indexOf(t.severity)), -1);

describe('S1–S4 Starkregen (dwd-starkregen preset)', () => {
  it('S1 T=10 Euler II: one alarm, Unwetter (severe), escalated in place, then clears', () => {
    expect(brief(run(S1, 5 * MIN))).toEqual([
      'firing moderate 21.4/15@1h +20m', // [DWD Starkregen Stufe 2] 1 h ≥ 15
      'escalated severe 25.766/25@1h +40m', // [DWD Starkregen Stufe 3] 1 h ≥ 25
      'deescalated moderate 28.8/20@6h +85m', // 1 h sum < 25 since +70m, held 15 min; 6 h still ≥ 20
      'resolved moderate 3.967/20@6h +395m', // 6 h sum < 20 since +380m, held 15 min
    ]);
  });

  it('S2 T=1 at 3-min steps: 14.9 mm stays silent, one more 0.2 mm tip makes it markant', () => {
    expect(run(S2, 3 * MIN)).toEqual([]);
    const ts = replay(engineWith([starkregen]), [...rain(S2, 3 * MIN), reading('g1', 'rain_mm', T0 + 40 * MIN, 0.2)], T0, T0 + 2 * HOUR);
    expect(brief(ts)[0]).toBe('firing moderate 15.1/15@1h +40m');
  });

  it.each([
    [74, []],
    [75, ['firing moderate']],
  ])('S2 tip quantisation: %i tips of 0.2 mm in 37 min → %j (14.8 does not, 15.0 does fire)', (n, want) => {
    const ts = run(Array(n).fill(0.2), 30_000, 1);
    expect(kinds(ts)).toEqual(want);
    if (n === 75) expect(ts[0].value).toBe(15);
  });

  it('S3 T=30: 36.6 mm → Unwetter (severe), and 5 mm more in the next hour stays severe (6 h 41.6 < 60)', () => {
    expect(brief(run(S3, 5 * MIN, 2))).toEqual(['firing severe 27.1/25@1h +20m']); // 2.2+3+4.7+17.2 at the peak

    const more = [...S3, ...Array(12).fill(5 / 12)];
    const ts = run(more, 5 * MIN, 2);
    expect(peak(ts)).toBe(2);
    expect(kinds(ts).filter((k) => k.startsWith('firing'))).toHaveLength(1);
  });

  it('S4 66 mm block rain over 4 h: the 6 h criterion escalates the same alarm to extreme though 1 h says moderate', () => {
    const ts = run(Array(48).fill(1.375), 5 * MIN, 5);
    expect(brief(ts)).toEqual([
      'firing moderate 15.125/15@1h +55m',
      'escalated severe 35.75/35@6h +130m', // [DWD Starkregen Stufe 3] 6 h > 35
      'escalated extreme 60.5/60@6h +220m', // [DWD Starkregen Stufe 4] 6 h > 60
    ]);
    expect(ts.every((t) => t.window === '6h' || t.kind === 'firing')).toBe(true);
  });
});

describe('S5 Dauerregen (dwd-dauerregen preset), 24 h of even hourly rain', () => {
  it.each([
    ['T1', 30.9, 'moderate', 30, '24h'],
    ['T10', 62.7, 'severe', 50, '24h'],
    ['T100', 102.6, 'extreme', 80, '24h'],
  ])('%s %f mm/24 h → %s', (_name, total, severity, threshold, window) => {
    const ts = run(Array(24).fill(total / 24), HOUR, 26, dauerregen);
    expect(ts.filter((t) => t.kind === 'firing')).toHaveLength(1);
    const top = ts.filter((t) => t.kind !== 'resolved' && t.kind !== 'deescalated').at(-1);
    expect(top).toMatchObject({ severity, threshold, window });
  });

  it.each([30.9, 62.7])('the same even rain (%f mm/24 h, < 5 mm/h) never trips Starkregen', (total) => {
    expect(run(Array(24).fill(total / 24), HOUR, 26)).toEqual([]);
  });

  it('T100 (4.3 mm/h) does reach the Starkregen 6 h criterion after 5 h: 5 × 4.275 = 21.375 ≥ 20', () => {
    expect(brief(run(Array(24).fill(102.6 / 24), HOUR, 8))[0]).toBe('firing moderate 21.375/20@6h +300m');
  });
});

describe('S6 Meldestufen Gießen-Klärwerk 550/600/650 cm, rising to 648 with ±2 cm noise', () => {
  // 1 cm per 5 min up to 646, an hour at the crest, 1 cm per 5 min down; noise alternates ±2 cm, so
  // the observed level crosses every stage line several times.
  const noise = [2, -2];
  const truth: number[] = [];
  for (let x = 500; x < 646; x += 1) truth.push(x);
  for (let i = 0; i < 12; i++) truth.push(646);
  for (let x = 646; x >= 520; x -= 1) truth.push(x);
  const observed = truth.map((v, i) => v + noise[i % noise.length]);
  const levels = blocks('g1', 'level_cm', observed, 5 * MIN);
  const pegel = (hysteresis?: number, clearFor?: string) => {
    const r = rule({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] });
    return hysteresis === undefined ? r : { ...r, clear: { hysteresis, for: clearFor ?? '0m', forMs: 0 } };
  };

  it('the replay peaks at exactly 648 cm', () => expect(Math.max(...observed)).toBe(648));

  it('MS I and MS II, no MS III, no flapping, resolves after < 545 for 10 min', () => {
    const ts = replay(engineWith([pegel()]), levels, T0, T0 + 26 * HOUR);
    expect(brief(ts)).toEqual([
      'firing moderate 550/550 +245m', // [HLNUG Meldestufe I] value ≥ threshold fires
      'escalated severe 600/600 +495m', // [HLNUG Meldestufe II]
      'deescalated moderate 589/550 +1070m', // < 595 (MS II − 5 cm) without a break for 10 min
      'resolved moderate 539/550 +1320m', // < 545 (MS I − 5 cm) for 10 min
    ]);
  });

  it('without hysteresis the same noise flaps (the scenario can tell the difference)', () => {
    const ts = replay(engineWith([pegel(0)]), levels, T0, T0 + 26 * HOUR);
    expect(ts.filter((t) => t.kind === 'firing').length).toBeGreaterThan(1);
    expect(ts.length).toBeGreaterThan(8);
  });
});
