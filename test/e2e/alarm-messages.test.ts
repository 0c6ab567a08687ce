// What the messages say, end to end: readings over MQTT, SMS through the HTTP gateway, webhooks and CAP
// documents read back through the API. The all-clear names the level in force with its own window's value;
// "seit HH:MM" is the reading time the condition began, in Berlin time and unambiguous on the autumn DST
// night; every hazard speaks its own words. [docs/formats.md]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart, receiver, webhook } from '../helpers/alarms.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

type Rx = Awaited<ReturnType<typeof receiver>>;
const SEGMENT = 12 * HOUR;
// 2026-10-25 is the autumn change in Germany: 02:00–02:59 happens twice (first MESZ, then MEZ)
const DST_NIGHT = Date.UTC(2026, 9, 24, 22, 0);

describe.each(['pglite', 'pg'] as const)('alarm messages on %s', (store) => {
  let s: TestSystem;
  let h: Harness;
  let sms: Rx;
  const clock = new Clock(DST_NIGHT);
  let n = 0;
  const open: Rx[] = [];

  beforeAll(async () => {
    sms = await receiver([200]);
    s = await startSystem({ store, now: clock.now, env: { SMS_PROVIDER: 'http', SMS_HTTP_URL: `${sms.url}/sms`, SMS_HTTP_TOKEN: 'gw' } });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await Promise.all([sms, ...open].map((r) => r?.close()));
  });

  /** A device with its rules, a webhook and an SMS route; its own phone number identifies its texts. */
  async function station(rules: Array<Record<string, unknown>>, o: { at?: number } = {}) {
    const dev = `msg${++n}`;
    clock.set(o.at ?? Math.max(clock.t + SEGMENT, pastStart(30 * SEGMENT) + n * SEGMENT));
    await h.device(dev);
    const ruleIds = [];
    for (const r of rules) ruleIds.push(await h.rule({ ...r, scope: { deviceIds: [dev] } }));
    const r = await receiver();
    open.push(r);
    const phone = `+49152000${String(n).padStart(4, '0')}`;
    await h.route({ name: `route ${dev}`, match: { minSeverity: 'minor', deviceIds: [dev] }, targets: [webhook(r.url), { type: 'sms', to: phone }] });
    return { dev, ruleIds, r, phone, t0: clock.t };
  }
  const texts = (phone: string) =>
    sms
      .bodies()
      .filter((b) => b.to === phone)
      .map((b) => b.text as string);
  const cap = async (id: string) => (await s.api<string>('GET', `/api/v1/cap/alerts/${id}.xml`)).body;
  const hhmm = (t: number) => new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
  /** Dry readings every 5 min (a gauge that keeps reporting), with scheduler passes in between. */
  async function dry(dev: string, until: number, metric = 'rain_mm', value = 0) {
    while (clock.t + 5 * MIN <= until) await h.send(dev, clock.t + 5 * MIN, { [metric]: value });
    await h.advance(MIN);
  }

  it('item 9: "seit" on the autumn DST night says which 02:30 it was: 02:30 MESZ, then 02:30 MEZ', async () => {
    const a = await station([{ preset: 'pegel-meldestufen', thresholds: [550, 600, 650] }], { at: DST_NIGHT });
    await h.send(a.dev, Date.UTC(2026, 9, 25, 0, 30), { level_cm: 610 }); // 02:30 MESZ (UTC+2)
    const b = await station([{ preset: 'pegel-meldestufen', thresholds: [550, 600, 650] }], { at: clock.t });
    await h.send(b.dev, Date.UTC(2026, 9, 25, 1, 30), { level_cm: 610 }); // 02:30 MEZ (UTC+1), an hour later
    await a.r.waitRequests(1);
    await b.r.waitRequests(1);
    expect(texts(a.phone)[0]).toMatch(/seit 02:30 MESZ\. Alarm \d+( Quittieren: \S+\/q\/\S{16})?$/);
    expect(texts(b.phone)[0]).toMatch(/seit 02:30 MEZ\. Alarm \d+( Quittieren: \S+\/q\/\S{16})?$/);
    // an ordinary hour carries no zone
    const c = await station([{ preset: 'pegel-meldestufen', thresholds: [550, 600, 650] }], { at: Date.UTC(2026, 9, 25, 3, 0) });
    await h.send(c.dev, Date.UTC(2026, 9, 25, 3, 30), { level_cm: 610 });
    await c.r.waitRequests(1);
    expect(texts(c.phone)[0]).toMatch(/seit 04:30\. Alarm \d+( Quittieren: \S+\/q\/\S{16})?$/);
  });

  it('item 9: startedAt and "seit" are the reading time the condition began, not when a late reading was processed', async () => {
    const x = await station([{ preset: 'pegel-meldestufen', thresholds: [550, 600, 650] }]);
    const stamped = x.t0 + 7 * MIN;
    clock.set(x.t0 + 11 * MIN); // the uplink arrives 4 min late (network backlog)
    await h.send(x.dev, stamped, { level_cm: 610 });
    const [a] = await h.alarms({ deviceId: x.dev });
    expect(a.startedAt).toBe(new Date(stamped).toISOString());
    await x.r.waitRequests(1);
    expect(x.r.bodies()[0].alarm.startedAt).toBe(new Date(stamped).toISOString());
    expect(texts(x.phone)[0]).toContain(`seit ${hhmm(stamped)}.`);
    // the backtest over the same readings reports the same start
    const bt = await s.ok('POST', `/api/v1/rules/${x.ruleIds[0]}/backtest`, {
      from: new Date(x.t0).toISOString(),
      to: new Date(x.t0 + 20 * MIN).toISOString(),
    });
    expect(bt.alarms[0].startedAt).toBe(a.startedAt);
  });

  it('item 8: the all-clear names the level in force with its own window: "1-h-Summe jetzt 0 mm (Schwelle 15 mm)"', async () => {
    const x = await station([{ preset: 'dwd-starkregen' }]);
    for (let i = 1; i <= 4; i++) await h.send(x.dev, x.t0 + i * 5 * MIN, { rain_mm: 4 }); // 16 mm in 20 min: the 1 h level (6 h: 16 < 20)
    await dry(x.dev, x.t0 + 2 * HOUR);
    const [a] = await h.alarms({ deviceId: x.dev });
    expect(a.state).toBe('resolved');
    const [firing, resolved] = x.r.bodies();
    expect(firing.alarm).toMatchObject({ window: '1h', threshold: 15, value: 16 });
    expect(resolved.type).toBe('alarm.resolved');
    // the 1 h level was in force: its own sum now, never the 6 h sum (16) next to the 1 h threshold
    expect(resolved.alarm).toMatchObject({ window: '1h', threshold: 15, value: 0 });
    const [, text] = texts(x.phone);
    expect(text).toMatch(/^ENTWARNUNG: WARNUNG Stufe 2 beendet: STARKREGEN, 1-h-Summe jetzt 0 mm \(Schwelle 15 mm\) an /);
    expect(await cap(a.id)).toContain('1-h-Summe jetzt 0 mm (Schwelle 15 mm)');
  });

  it('item 10: a rate rule says PEGELANSTIEG …; when the rise stops: "Anstieg beendet", never ENTWARNUNG', async () => {
    const x = await station([{ name: 'Anstieg Lahn', kind: 'rate', metric: 'level_cm', levels: [{ severity: 'severe', window: '1h', threshold: 30 }] }]);
    const levels = [100, 110, 120, 131];
    for (const [i, v] of levels.entries()) await h.send(x.dev, x.t0 + i * 20 * MIN, { level_cm: v });
    await dry(x.dev, x.t0 + 3 * HOUR, 'level_cm', 131); // flat: the rise over 1 h falls to 0
    await x.r.waitRequests(2);
    const [first, last] = texts(x.phone);
    expect(first).toMatch(
      new RegExp(`^PEGELANSTIEG 31 cm in 1 h an Pegel ${x.dev} \\(${x.dev}\\) seit \\d\\d:\\d\\d\\. Alarm \\d+( Quittieren: \\S+/q/\\S{16})?$`),
    );
    // the rise from the level at the window start, interpolated between readings: may be a decimal
    expect(last).toMatch(/^PEGELANSTIEG: Anstieg beendet, jetzt \d+(,\d+)? cm in 1 h \(Schwelle 30 cm\) an /);
    expect(texts(x.phone).join('\n')).not.toMatch(/ENTWARNUNG|HOCHWASSER/);
    const [fired, ended] = x.r.bodies();
    expect(fired.alarm.title).toBe('PEGELANSTIEG');
    expect(ended.alarm.message).toMatch(/Anstieg beendet/);
    const [a] = await h.alarms({ deviceId: x.dev });
    const xml = await cap(a.id);
    expect(xml).toContain('<event>PEGELANSTIEG</event>');
    expect(xml).toContain('<headline>PEGELANSTIEG: Anstieg beendet an ');
    expect(xml).not.toContain('AllClear');
  });

  it('item 10: gauge levels say HOCHWASSER Meldestufe I–III in SMS, webhook title and CAP headline', async () => {
    const x = await station([{ preset: 'pegel-meldestufen', thresholds: [550, 600, 650] }]);
    await h.send(x.dev, x.t0 + 5 * MIN, { level_cm: 556 });
    await h.send(x.dev, x.t0 + 10 * MIN, { level_cm: 604 });
    await x.r.waitRequests(2);
    expect(x.r.bodies().map((b) => b.alarm.title)).toEqual(['HOCHWASSER Meldestufe I', 'HOCHWASSER Meldestufe II']);
    expect(texts(x.phone)[1]).toMatch(/^HÖHER: HOCHWASSER Meldestufe II: Pegel 604 cm/);
    const [a] = await h.alarms({ deviceId: x.dev });
    const xml = await cap(a.id);
    expect(xml).toContain('<headline>HOCHWASSER Meldestufe II an ');
    expect(xml).toContain('<event>HOCHWASSER</event>');
  });

  it('item 12: DWD boundaries: 15.0 mm/1 h is Stufe 2, exactly 25.0 mm stays Stufe 2 ("> 25"), 25.2 mm is Stufe 3', async () => {
    const x = await station([{ preset: 'dwd-starkregen' }]);
    for (let i = 1; i <= 3; i++) await h.send(x.dev, x.t0 + i * 5 * MIN, { rain_mm: 5 }); // 15.0: Stufe 2 fires at its bound
    let [a] = await h.alarms({ deviceId: x.dev });
    expect(a.severity).toBe('moderate');
    for (let i = 4; i <= 5; i++) await h.send(x.dev, x.t0 + i * 5 * MIN, { rain_mm: 5 }); // 25.0: not above 25
    [a] = await h.alarms({ deviceId: x.dev });
    expect(a.events.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:moderate']);
    await h.send(x.dev, x.t0 + 30 * MIN, { rain_mm: 0.2 }); // 25.2: Unwetter
    [a] = await h.alarms({ deviceId: x.dev });
    expect(a.events.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:moderate', 'escalated:severe']);
    const rule = await s.ok('GET', `/api/v1/rules/${x.ruleIds[0]}`);
    expect(
      rule.levels
        .filter((l: { strict?: boolean }) => l.strict)
        .map((l: { threshold: number }) => l.threshold)
        .sort((p: number, q: number) => p - q),
    ).toEqual([25, 35, 40, 60]);
  });

  it('item 10: rain speaks DWD: HEFTIGER STARKREGEN for a cloudburst, DAUERREGEN for a steady rain, in SMS, title and CAP event', async () => {
    const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7];
    const burst = await station([{ preset: 'dwd-starkregen' }]);
    for (const [i, v] of S1.entries()) await h.send(burst.dev, burst.t0 + (i + 1) * 5 * MIN, { rain_mm: v });
    await burst.r.waitRequests(2);
    const sev = texts(burst.phone).find((t) => t.startsWith('HÖHER: '));
    expect(sev).toMatch(/^HÖHER: UNWETTER Stufe 3: HEFTIGER STARKREGEN, 25,8 mm Regen in 1 h/);
    expect(burst.r.bodies().map((b) => b.alarm.title)).toEqual(['WARNUNG Stufe 2: STARKREGEN', 'UNWETTER Stufe 3: HEFTIGER STARKREGEN']);
    const [b] = await h.alarms({ deviceId: burst.dev });
    expect(await cap(b.id)).toContain('<event>HEFTIGER STARKREGEN</event>');

    // 0.2 mm every 5 min for 11 h: 26.4 mm in 12 h (Dauerregen Stufe 2), never 15 mm in 1 h or 20 mm in 6 h
    const steady = await station([{ preset: 'dwd-dauerregen' }, { preset: 'dwd-starkregen' }]);
    const batch = Array.from({ length: 132 }, (_, i) => ({ time: steady.t0 + (i + 1) * 5 * MIN, readings: { rain_mm: 0.2 } }));
    await h.send(steady.dev, steady.t0 + 132 * 5 * MIN, batch);
    await steady.r.waitRequests(1);
    const [d] = await h.alarms({ deviceId: steady.dev });
    expect(d.ruleId).toBe(steady.ruleIds[0]);
    expect(texts(steady.phone)[0]).toMatch(/^WARNUNG Stufe 2: DAUERREGEN, 25 mm Regen in 12 h/);
    expect(steady.r.bodies()[0].alarm.title).toBe('WARNUNG Stufe 2: DAUERREGEN');
    expect(await cap(d.id)).toContain('<event>DAUERREGEN</event>');
  });

  it('item 12: one cloudburst (KOSTRA T=10 Euler II, 28.8 mm in 1 h) is HEFTIGER STARKREGEN and not also DAUERREGEN', async () => {
    // failed before: the Dauerregen preset summed every drop, so the burst also made "DAUERREGEN, 28,8 mm in 12 h"
    const S1 = [1.8, 2.3, 3.7, 13.6, 1.25, 1.25, 0.933, 0.933, 0.933, 0.7, 0.7, 0.7];
    const both = await station([{ preset: 'dwd-dauerregen' }, { preset: 'dwd-starkregen' }]);
    for (const [i, v] of S1.entries()) await h.send(both.dev, both.t0 + (i + 1) * 5 * MIN, { rain_mm: v });
    // an hour of dry readings after the burst: the 12 h sum of every drop stays 28.8 mm
    for (let i = 13; i <= 24; i++) await h.send(both.dev, both.t0 + i * 5 * MIN, { rain_mm: 0 });
    await both.r.waitRequests(2);
    const alarms = await h.alarms({ deviceId: both.dev });
    // only the Starkregen rule: severe at the burst's peak, moderate now by its 6 h sum (28.8 mm ≥ 20 mm)
    expect(alarms.map((a: { ruleId: string }) => a.ruleId)).toEqual([both.ruleIds[1]]);
    expect(alarms[0].events.map((e: { kind: string; severity: string }) => `${e.kind}:${e.severity}`)).toEqual([
      'firing:moderate',
      'escalated:severe',
      'deescalated:moderate',
    ]);
    expect(both.r.bodies().map((b) => b.alarm.title)).not.toContain('WARNUNG Stufe 2: DAUERREGEN');
    const rule = await s.ok('GET', `/api/v1/rules/${both.ruleIds[0]}`);
    expect(rule.intensityCap).toBe(10);
  });
});
