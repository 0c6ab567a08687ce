// Restart mid-storm: the open alarm continues from the stored readings and alarm state (same id, no second
// firing), and a backtest over the stored storm reproduces what the live engine raised. [docs/api.md, docs/guarantees.md]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Clock, Harness, MIN, pastStart } from '../helpers/alarms.ts';
import { freshPgDatabase } from '../helpers/env.ts';
import { startSystem } from '../helpers/system.ts';

const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7]; // KOSTRA T=10 Euler II, 28.8 mm

describe.each(['pglite', 'pg'] as const)('restart mid-storm on %s', (store) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-restart-'));
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  afterAll(async () => {
    await db?.drop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('continues the open alarm after a restart and the backtest agrees with the live engine', { timeout: 90_000 }, async () => {
    if (store === 'pg') db = await freshPgDatabase();
    const t0 = pastStart(3 * 60 * MIN);
    const clock = new Clock(t0);
    const boot = async () => {
      const s = await startSystem({ store, dataDir, databaseUrl: db?.url, now: clock.now });
      return new Harness(s, clock);
    };
    const at = (i: number) => t0 + (i + 1) * 5 * MIN;

    let h = await boot();
    await h.device('g1');
    const ruleId = await h.rule({ preset: 'dwd-starkregen', scope: { deviceIds: ['g1'] } });
    for (let i = 0; i < 6; i++) await h.send('g1', at(i), { rain_mm: S1[i] }); // 23.9 mm: moderate
    const [before] = await h.alarms({ ruleId });
    expect(before.events.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:moderate']);
    h.close();
    await h.s.close();

    h = await boot();
    try {
      for (let i = 6; i < 12; i++) await h.send('g1', at(i), { rain_mm: S1[i] });
      const alarms = await h.alarms({ ruleId });
      expect(
        alarms.map((a) => a.id),
        'the same alarm, no second one',
      ).toEqual([before.id]);
      const [a] = alarms;
      expect(a.events.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:moderate', 'escalated:severe']);
      expect(a.severity).toBe('severe');
      // the escalation's 1 h sum counts the blocks stored before the restart: 1.8+2.3+3.7+13.6+1.25+1.25+0.933+0.933
      expect(a.events[1].value).toBeCloseTo(25.766, 6);
      const r = await h.s.ok('GET', `/api/v1/devices/g1/readings?metric=rain_mm&from=${new Date(t0).toISOString()}&to=${new Date(at(11) + 1).toISOString()}`);
      expect(r.points.reduce((sum: number, p: { value: number }) => sum + p.value, 0)).toBeCloseTo(28.799, 6); // 28.8 as published (0.933 × 3)

      const bt = await h.s.ok('POST', `/api/v1/rules/${ruleId}/backtest`, { from: new Date(t0).toISOString(), to: new Date(at(11)).toISOString() });
      expect(bt.alarms).toEqual([expect.objectContaining({ deviceId: 'g1', severity: 'severe', maxSeverity: 'severe', startedAt: a.startedAt })]);
      expect(bt.transitions.map((t: { kind: string; severity: string; at: string }) => [t.kind, t.severity, t.at])).toEqual(
        a.events.map((e) => [e.kind, e.severity, e.at]),
      );
    } finally {
      h.close();
      await h.s.close();
    }
  });
  it('a gauge silent for more than the look-back keeps its level after a restart: its Meldestufe alarm does not resolve', { timeout: 90_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-restart-'));
    const silentDb = store === 'pg' ? await freshPgDatabase() : undefined;
    const t0 = pastStart(4 * 60 * MIN);
    const clock = new Clock(t0);
    const boot = async () => new Harness(await startSystem({ store, dataDir: dir, databaseUrl: silentDb?.url, now: clock.now }), clock);
    let h = await boot();
    try {
      await h.device('p1');
      const ruleId = await h.rule({ preset: 'pegel-meldestufen', scope: { deviceIds: ['p1'] }, thresholds: [550, 600, 650] });
      await h.send('p1', t0 + 5 * MIN, { level_cm: 562 });
      await h.advance(90 * MIN, 15 * MIN); // the gauge stays silent at 562 cm
      h.close();
      await h.s.close();
      h = await boot();
      await h.advance(30 * MIN, 5 * MIN); // longer than clear.for (10 min)
      const [a] = await h.alarms({ ruleId });
      // silence is held as stale (once, not again after the restart), never an all-clear
      expect(
        a.events.map((e) => `${e.kind}:${e.severity}`),
        'a silent gauge keeps its last level; no all-clear from a restart',
      ).toEqual(['firing:moderate', 'stale:moderate']);
      expect(a.state).toBe('firing');
    } finally {
      h.close();
      await h.s.close();
      await silentDb?.drop().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
