import { describe, expect, it } from 'vitest';
import { Series } from './windows.ts';

const H = 3_600_000;

describe('Series', () => {
  it('sums exactly: 74 tips of 0.2 are 14.8 and 75 are 15.0', () => {
    const s = new Series(2 * H);
    for (let i = 1; i <= 75; i++) s.insert(i * 1000, 0.2);
    expect(s.sum(74_000, H)).toBe(14.8);
    expect(s.sum(75_000, H)).toBe(15);
  });

  it('window is (t − w, t]: a point exactly w ago is out, one at t is in', () => {
    const s = new Series(2 * H);
    s.insert(0, 1);
    s.insert(H, 2);
    expect(s.sum(H, H)).toBe(2);
    expect(s.sum(H - 1, H)).toBe(1);
  });

  it('takes late points in order, ignores a duplicate time (first wins), refuses points beyond retention', () => {
    const s = new Series(H);
    expect(s.insert(10_000, 1)).toBe('appended');
    expect(s.insert(30_000, 3)).toBe('appended');
    expect(s.insert(20_000, 2)).toBe('inserted');
    expect(s.insert(20_000, 99)).toBe('duplicate');
    expect(s.insert(30_000 - H, 5)).toBe('stale');
    expect(s.sum(25_000, 10_000)).toBe(2);
    expect(s.sum(30_000, H)).toBe(6);
    expect(s.last(30_000)).toEqual({ time: 30_000, value: 3 });
    expect(s.last(25_000)).toEqual({ time: 20_000, value: 2 });
  });

  it('prunes beyond retention but keeps the newest point; sums stay right across compaction', () => {
    const s = new Series(10_000);
    for (let i = 0; i < 5000; i++) s.insert(i * 1000, 0.1);
    expect(s.size).toBeLessThan(30);
    expect(s.sum(4_999_000, 10_000)).toBe(1);
    const lone = new Series(0);
    lone.insert(1, 5);
    lone.insert(2 * H, 7);
    expect(lone.size).toBe(2); // the newest point and the newest one before the cut (a rate window's start)
    expect(lone.last(3 * H)?.value).toBe(7);
  });

  it('min/max over a sliding window match a brute-force scan, also after late inserts', () => {
    const s = new Series(10 * H);
    const pts: [number, number][] = [];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 1; i <= 400; i++) {
      const t = i % 17 === 0 ? (i - 3) * 60_000 + 1 : i * 60_000; // every 17th arrives late
      const v = Math.round(rnd() * 1000) / 10;
      if (s.insert(t, v) !== 'duplicate') pts.push([t, v]);
      const now = Math.max(...pts.map((p) => p[0]));
      const w = 15 * 60_000;
      const inWin = pts.filter(([pt]) => pt > now - w && pt <= now).map((p) => p[1]);
      expect(s.min(now, w)).toBe(Math.min(...inWin));
      expect(s.max(now, w)).toBe(Math.max(...inWin));
    }
  });

  it('min/max of an empty window is undefined', () => {
    const s = new Series(H);
    s.insert(0, 1);
    expect(s.min(2 * 60_000, 60_000)).toBeUndefined();
  });
});
