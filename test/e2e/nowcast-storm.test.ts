// A storm cell moving towards a catchment, end to end: a local fake of the DWD open-data server serves six
// synthetic RV runs (made in memory before the system starts, from firmware-sim/nowcast/storm.ts), the fetch
// worker decodes them into forecasts for the catchment's virtual device, and the gauge in the catchment
// reports the same storm over MQTT in the storm's own time (an injected clock). The combined rule raises a
// `minor` pre-warning from the forecast and escalates the same alarm to `moderate` when the gauge confirms;
// runs that stop arriving raise the stale-data alarm; a hanging DWD server and a crashed fetch worker do not
// hold up ingestion or the warning path. [docs/dwd.md Radar nowcast] [docs/warning-logic.md Combined rules]
import fs from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultStorm, NowcastStorm } from '../../firmware-sim/nowcast/storm.ts';
import { hdf5Name } from '../../services/dwd/nowcast-job.ts';
import { type AlarmView, Clock, Harness, MIN, pastStart, receiver, webhook } from '../helpers/alarms.ts';
import { DWD_FIXTURES, type FakeDwd, fakeDwdServer } from '../helpers/dwd.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const RV_DIR = '/weather/radar/composite/rv';
const RUNS = 6;
const GAUGE = 'pegel-lahn-nord';
const NOWCAST = 'catchment-lahn-nord';
const PHONE = '+4915100020020';
type Rx = Awaited<ReturnType<typeof receiver>>;

describe('a storm cell moving towards a catchment: forecast pre-warning, gauge alarm, stale runs (pglite)', () => {
  // storm time: the first run's base time, three hours back (the worker looks back four), on a whole 5 min
  const S = pastStart(3 * 60 * MIN);
  const storm = new NowcastStorm(defaultStorm(S));
  const runs: Uint8Array[] = [];
  const clock = new Clock(S - 15 * MIN);
  let dwd: FakeDwd;
  let s: TestSystem;
  let h: Harness;
  let hook: Rx;
  let sms: Rx;
  const ids: Record<string, string> = {};
  let combined: AlarmView;

  /** publishes run k, ~2 min after its base time as the DWD does, and waits until its forecast is stored */
  async function publishRun(k: number) {
    const T = storm.runTime(k);
    clock.set(T + 2 * MIN);
    dwd.files.set(`${RV_DIR}/${hdf5Name(T)}`, runs[k]);
    await waitFor(
      async () => {
        const r = await s.ok('GET', `/api/v1/devices/${NOWCAST}/readings?metric=forecast_60min_mm&from=${new Date(T - 1).toISOString()}`);
        return r.points.some((p: { time: string }) => Date.parse(p.time) === T);
      },
      120_000,
      `the forecast of run ${k}`,
    );
    await s.alerting!.settle();
  }
  /** the gauge's 5-min rain ending at t, over MQTT at t */
  const gauge = (t: number) => h.send(GAUGE, t, { rain_mm: storm.gaugeMm(t) });
  const alarmsOf = (ruleId: string) => h.alarms({ ruleId });

  beforeAll(async () => {
    for (let k = 0; k < RUNS; k++) runs.push(await storm.runTar(k)); // all in memory before the system starts
    dwd = await fakeDwdServer();
    hook = await receiver([200]);
    sms = await receiver([200]);
    s = await startSystem({
      store: 'pglite',
      now: clock.now,
      env: {
        DWD_OPENDATA_URL: dwd.url,
        DWD_POLL: '1s',
        DWD_RADAR_BINARY_URL: 'none',
        DWD_RADAR_LOOKBACK: String(4 * 3600),
        DWD_FETCH_TIMEOUT: '120',
        DWD_FETCH_RETRIES: '0',
        SMS_PROVIDER: 'http',
        SMS_HTTP_URL: `${sms.url}/sms`,
        SMS_HTTP_TOKEN: 'gw',
      },
    });
    h = new Harness(s, clock);
    await s.ok('POST', '/api/v1/devices', {
      id: GAUGE,
      name: 'Pegel Lahn-Nord',
      model: 'generic',
      location: { lat: storm.spec.lat, lon: storm.spec.lon },
      params: {},
      tags: { catchment: 'lahn-nord' },
    });
    await s.ok('POST', '/api/v1/catchments', { id: 'lahn-nord', name: 'Lahn-Nord', circle: { deviceIds: [GAUGE], radiusM: 3000 }, thresholdMm: 20 });
    ids.combined = await h.rule({
      name: 'Starkregen Lahn-Nord (Vorhersage + Pegel)',
      kind: 'threshold',
      metric: 'forecast_60min_mm',
      scope: { tags: { source: 'dwd-nowcast', catchment: 'lahn-nord' } },
      levels: [
        { severity: 'minor', threshold: 20 },
        { severity: 'moderate', threshold: 20, and: { metric: 'rain_mm', kind: 'accumulation', window: '15m', threshold: 5 } },
      ],
    });
    ids.gauge = await h.rule({
      name: 'Starkregen am Pegel',
      kind: 'accumulation',
      metric: 'rain_mm',
      scope: { deviceIds: [GAUGE] },
      levels: [{ severity: 'moderate', window: '15m', threshold: 5 }],
    });
    ids.stale = await h.rule({
      name: 'Radarvorhersage veraltet',
      kind: 'offline',
      scope: { tags: { source: 'dwd-nowcast' } },
      levels: [{ severity: 'minor', window: '20m' }],
    });
    await h.route({ name: 'Leitstelle', match: { minSeverity: 'minor' }, targets: [webhook(hook.url), { type: 'sms', to: PHONE }] });
  }, 600_000);

  afterAll(async () => {
    h?.close();
    await s?.close();
    await Promise.all([dwd?.close(), hook?.close(), sms?.close()]);
  });

  it('a real DWD RV run (the sample, served under a recent run name) goes through the worker into a stored forecast', async () => {
    // test/fixtures/dwd/composite_rv_20250923_0855.tar (Datenbasis: Deutscher Wetterdienst, CC BY 4.0): members _000
    // and _050; its members keep their own names, the worker reads the lead from the suffix
    const T = storm.runTime(-1);
    clock.set(T + 2 * MIN);
    dwd.files.set(`${RV_DIR}/${hdf5Name(T)}`, new Uint8Array(fs.readFileSync(path.join(DWD_FIXTURES, 'composite_rv_20250923_0855.tar'))));
    const stored = await waitFor(
      async () => {
        const r = await s.ok('GET', `/api/v1/devices/${NOWCAST}/readings?metric=forecast_missing_pct&from=${new Date(T - 1).toISOString()}`);
        return r.points.find((p: { time: string }) => Date.parse(p.time) === T);
      },
      120_000,
      'the forecast of the real run',
    );
    expect(stored.value).toBeGreaterThanOrEqual(0);
    const status = await s.ok('GET', '/api/v1/dwd/nowcast');
    expect(status).toMatchObject({ format: 'hdf5', members: 2, attribution: expect.stringContaining('Deutscher Wetterdienst') });
  }, 300_000);

  it('the forecast pre-warning fires ≥ 30 min (storm time) before the gauge alarm, and the same alarm escalates when the gauge confirms', async () => {
    for (let k = 0; k < RUNS; k++) {
      await publishRun(k);
      await gauge(storm.runTime(k) + 5 * MIN);
    }
    // after the last run the gauge goes on reporting the storm
    for (let t = storm.runTime(RUNS - 1) + 10 * MIN; t <= S + 40 * MIN; t += 5 * MIN) await gauge(t);

    const [pre] = await alarmsOf(ids.combined);
    const [ground] = await alarmsOf(ids.gauge);
    expect(pre, 'the forecast pre-warning').toBeDefined();
    expect(ground, 'the gauge alarm').toBeDefined();
    const lead = (Date.parse(ground.startedAt) - Date.parse(pre.startedAt)) / MIN;
    expect(lead, 'lead time of the forecast over the gauge, storm minutes').toBeGreaterThanOrEqual(30);

    // one alarm: fired minor from the forecast, escalated to moderate by the gauge, same id
    expect(await alarmsOf(ids.combined)).toHaveLength(1);
    combined = await h.alarm(pre.id);
    expect(combined.deviceId).toBe(NOWCAST);
    expect(combined.severity).toBe('moderate');
    expect(combined.events.map((e) => `${e.kind} ${e.severity}`)).toEqual(['firing minor', 'escalated moderate']);
    const escalatedAt = Date.parse(combined.events[1].at);
    expect(escalatedAt, 'escalated when the gauge confirmed').toBe(Date.parse(ground.startedAt));

    // the messages say where the information comes from
    await hook.waitRequests(2, 30_000);
    const fired = hook.bodies().find((b) => b.type === 'alarm.firing' && b.alarm.id === pre.id);
    expect(fired.alarm.message).toMatch(/Radarvorhersage DWD: [\d,]+ mm in 60 min erwartet/);
    expect(fired.alarm.message).toContain('Einzugsgebiet Lahn-Nord');
    expect(fired.alarm.attribution).toBe('Datenbasis: Deutscher Wetterdienst (CC BY 4.0)');
    const texts = await waitFor(() => {
      const t = sms
        .bodies()
        .filter((b) => b.to === PHONE)
        .map((b) => b.text as string);
      return t.some((x) => /Radarvorhersage DWD/.test(x)) && t;
    }, 30_000);
    // … and from when the catchment's depth (thresholdMm 20) is expected: the run's base time + its minutes to threshold
    const toThreshold = await s.ok('GET', `/api/v1/devices/${NOWCAST}/readings?metric=forecast_minutes_to_threshold&from=${pre.startedAt}`);
    const first = toThreshold.points.find((p: { time: string }) => p.time === pre.startedAt);
    expect(first.value, 'the firing run expects the threshold within 120 min').toBeLessThan(999);
    const expectedAt = new Date(Date.parse(pre.startedAt) + first.value * MIN).toISOString();
    expect(fired.alarm.expectedAt).toBe(expectedAt);
    const hhmm = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      Date.parse(expectedAt),
    );
    expect(texts.find((x) => x.startsWith('HINWEIS'))).toMatch(
      new RegExp(
        `^HINWEIS Stufe 1: STARKREGEN, Radarvorhersage DWD: [\\d,]+ mm in 60 min erwartet für Einzugsgebiet Lahn-Nord, ab ca\\. ${hhmm}\\. Alarm ${pre.id}`,
      ),
    );
  }, 600_000);

  it('runs that stop arriving raise the stale-data alarm 20 min after the last run', async () => {
    const last = storm.runTime(RUNS - 1);
    expect(await alarmsOf(ids.stale)).toEqual([]);
    await h.advance(last + 21 * MIN - clock.t, MIN);
    const [stale] = await waitFor(async () => {
      const a = await alarmsOf(ids.stale);
      return a.length > 0 && a;
    }, 30_000);
    expect(stale).toMatchObject({ deviceId: NOWCAST, state: 'firing', severity: 'minor' });
    expect(Date.parse(stale.startedAt) - last).toBeGreaterThanOrEqual(20 * MIN);
  }, 120_000);

  it('a hanging DWD server does not hold up ingestion: every uplink is acknowledged while the fetch hangs', async () => {
    const client: MqttClient = await s.mqttClient();
    const ackMs = async (n: number, t0: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const w = performance.now();
        await new Promise<void>((ok, bad) =>
          client.publish(`devices/${GAUGE}/up`, JSON.stringify({ time: new Date(t0 + i * 1000).toISOString(), readings: { rain_mm: 0 } }), { qos: 1 }, (e) =>
            e ? bad(e) : ok(),
          ),
        );
        out.push(performance.now() - w);
      }
      return out;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const free = await ackMs(20, clock.t + 1000);

    // every run the worker may ask for now hangs: no answer, ever
    const now = Date.now();
    for (let t = now - 5 * 3600_000; t <= now + 30 * MIN; t += 5 * MIN) dwd.hang.add(`${RV_DIR}/${hdf5Name(Math.floor(t / (5 * MIN)) * 5 * MIN)}`);
    const from = dwd.requests.length;
    await waitFor(() => dwd.requests.slice(from).some((r) => r.status === 0), 30_000, 'the worker waiting on a hanging server');
    const hanging = await ackMs(20, clock.t + 30_000);
    // all acknowledged while the one fetch still hangs (its deadline is 120 s; no second request was made)
    expect(dwd.requests.slice(from).filter((r) => r.status === 0)).toHaveLength(1);
    expect(hanging).toHaveLength(20);
    const stored = await s.ok(
      'GET',
      `/api/v1/devices/${GAUGE}/readings?metric=rain_mm&from=${new Date(clock.t + 30_000).toISOString()}&to=${new Date(clock.t + 60_000).toISOString()}`,
    );
    expect(stored.points).toHaveLength(20);
    console.log(
      `ingest ack latency, median of 20: ${median(free).toFixed(1)} ms with the DWD server answering, ${median(hanging).toFixed(1)} ms while it hangs`,
    );
    client.end(true);
    dwd.hang.clear();
  }, 120_000);
});
