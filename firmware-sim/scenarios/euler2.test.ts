// Euler II design storms against the reference scenarios of docs/reference/domain.md (S1–S5).
import { describe, expect, it } from 'vitest';
import { getModel } from '../encoders/index.ts';
import { createRng } from '../prng.ts';
import { createSensor, DEFAULT_SENSOR } from '../sensor.ts';
import { cumulativeAt, designStorm } from './euler2.ts';
import { BUILTIN_CELLS, parseKostraCsv } from './kostra.ts';

const cell = BUILTIN_CELLS['117111'];
const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
const maxWindow = (a: number[], k: number): number => Math.max(...a.slice(0, a.length - k + 1).map((_, i) => sum(a.slice(i, i + k))));

describe('Euler II blocks (cell 117111)', () => {
  it('S1: T=10 a, D=60 min', () => {
    const b = designStorm(cell, 10, 60);
    const expected = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.9333, 0.9333, 0.9333, 0.7, 0.7, 0.7];
    expect(b).toHaveLength(12);
    b.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 3));
    expect(sum(b)).toBeCloseTo(28.8, 9);
    expect(maxWindow(b, 3)).toBeCloseTo(19.6, 9); // hN(15)
    expect(sum(b.slice(0, 6))).toBeCloseTo(23.9, 9); // first 30 min
  });

  it.each([
    ['S2', 1, [0.9, 1.2, 1.9, 7.0, 0.7, 0.7, 0.4667, 0.4667, 0.4667, 0.3667, 0.3667, 0.3667], 14.9],
    ['S3', 30, [2.2, 3.0, 4.7, 17.2, 1.65, 1.65, 1.1667, 1.1667, 1.1667, 0.9, 0.9, 0.9], 36.6],
  ] as const)('%s: T=%i a, D=60 min', (_s, T, expected, total) => {
    const b = designStorm(cell, T, 60);
    b.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 3));
    expect(sum(b)).toBeCloseTo(total, 9);
  });

  it('S4: T=100 a, D=240 min = 66 mm as even blocks (only hN(240) is published)', () => {
    const b = designStorm(cell, 100, 240);
    expect(b).toHaveLength(48);
    expect(sum(b)).toBeCloseTo(66, 9);
    expect(maxWindow(b, 12)).toBeCloseTo(16.5, 9); // 1-h max stays markant; the 6-h rule must give Stufe 4
  });

  it('D=180 interpolates 60→180 and ends at hN(180)', () => {
    const b = designStorm(cell, 10, 180);
    expect(b).toHaveLength(36);
    expect(sum(b)).toBeCloseTo(38.2, 9);
    expect(Math.max(...b)).toBeCloseTo(13.6, 9);
  });

  it('S5 Berlin: T=100 D=60 = 48.9 mm', () => {
    expect(sum(designStorm(BUILTIN_CELLS.berlin, 100, 60))).toBeCloseTo(48.9, 9);
  });

  it('refuses durations and periods the table does not cover', () => {
    expect(() => designStorm(cell, 100, 60)).toThrow(/T=100 covers D=240..240/);
    expect(() => designStorm(cell, 50, 60)).toThrow(/no return period T=50/);
    expect(() => designStorm(cell, 10, 240)).toThrow(/outside/);
  });

  it('loads any cell from a KOSTRA CSV', () => {
    const t = parseKostraCsv('D_min,T1,T10\n5,7.0,13.6\n10,8.9,17.3\n15,10.1,19.6\n');
    const b = designStorm(t, 10, 15);
    [3.7, 13.6, 2.3].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 9)); // k = round(1 + 0.3·2) = 2 blocks ascending
    expect(() => parseKostraCsv('D,X1\n5,1')).toThrow(/not a return period/);
  });
});

describe('tip quantisation', () => {
  it.each([1, 10, 30])('T=%i: reported total is within one tip below the storm depth', (T) => {
    const blocks = designStorm(cell, T, 60);
    const total = sum(blocks);
    const sensor = createSensor(getModel('dragino-sn50v3-count'), DEFAULT_SENSOR, createRng('q'));
    const counts: number[] = [];
    for (let m = 0; m <= 60; m++) counts.push(sensor.read(m * 60_000, { rainCumMm: cumulativeAt(blocks, m) }).tipCount!);
    const reported = (counts[60] - counts[0]) * 0.2;
    expect(reported).toBeLessThanOrEqual(total + 1e-9);
    expect(total - reported).toBeLessThan(0.2);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
  });

  it('S2 boundary: 14.9 mm reads as 14.8 on a 0.2 mm gauge (stays below the 15 mm threshold)', () => {
    const sensor = createSensor(getModel('elsys-elt'), DEFAULT_SENSOR, createRng('s2'));
    const a = sensor.read(0, { rainCumMm: 0 }).tipCount!;
    const b = sensor.read(3_600_000, { rainCumMm: 14.9 }).tipCount!;
    expect((b - a) * 0.2).toBeCloseTo(14.8, 9);
  });
});
