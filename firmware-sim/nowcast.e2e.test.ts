// `npm run sim -- --scenario euler2 --nowcast --setup …` against a real Regenwacht reading the simulator's RV
// runs (DWD_OPENDATA_URL): the forecast pre-warning for the simulated catchment comes first, and the same alarm
// escalates when the simulated gauges confirm. [firmware-sim/README.md] [docs/warning-logic.md Combined rules]
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiver } from '../test/helpers/alarms.ts';
import { startSystem, type TestSystem, waitFor } from '../test/helpers/system.ts';
import { runSimulator } from './simulator.ts';

const freePort = () =>
  new Promise<number>((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });

describe('simulator --nowcast → Regenwacht', () => {
  let s: TestSystem;
  let port: number;
  let sms: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    port = await freePort();
    sms = await receiver([200]);
    s = await startSystem({
      store: 'pglite',
      env: {
        DWD_OPENDATA_URL: `http://127.0.0.1:${port}`,
        DWD_POLL: '1s',
        DWD_RADAR_LOOKBACK: '7200',
        SMS_PROVIDER: 'http',
        SMS_HTTP_URL: `${sms.url}/sms`,
        SMS_HTTP_TOKEN: 'gw',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await sms?.close();
  });

  it('serves the nowcast storm beside the gauge storm: forecast pre-warning first, escalated by the gauges', async () => {
    const summary = await runSimulator([
      ...['--setup', '--api', s.httpUrl, '--token', s.token, '--broker', s.mqttUrl ?? ''],
      ...['--scenario', 'euler2', '--duration', '30m', '--speed', '90', '--devices', '2', '--seed', 'nowcast'],
      ...['--nowcast', '--nowcast-port', String(port), '--sms', '+491701234567'],
    ]);
    expect(summary.errors).toBe(0);
    expect(summary.nowcast?.served, 'runs fetched by Regenwacht').toBeGreaterThan(0);
    const alarms = async (q: string) => (await s.ok('GET', `/api/v1/alarms?state=all&${q}`)).items as any[];
    const [pre] = await waitFor(async () => {
      const a = await alarms('deviceId=catchment-sim');
      return a.length > 0 && a;
    }, 30_000);
    const detail = await waitFor(async () => {
      const d = await s.ok('GET', `/api/v1/alarms/${pre.id}`);
      return d.severity === 'moderate' && d;
    }, 30_000);
    expect(detail.events.map((e: { kind: string; severity: string }) => `${e.kind} ${e.severity}`).slice(0, 2)).toEqual(['firing minor', 'escalated moderate']);
    const gauge = (await alarms(`deviceId=${summary.deviceIds[0]}`))[0];
    expect(gauge, 'the gauge rule fired too').toBeDefined();
    expect(Date.parse(pre.startedAt)).toBeLessThan(Date.parse(gauge.startedAt));
    // the messages the README shows: the pre-warning, then the same alarm raised by the gauges
    const texts = await waitFor(() => {
      const t = sms.bodies().map((b) => b.text as string);
      return t.filter((x) => x.includes('Radarvorhersage DWD')).length >= 2 && t;
    }, 30_000);
    // the forecast's SMS name the catchment, not its virtual device id [docs/formats.md SMS]
    const forecast = texts.filter((x) => x.includes('Radarvorhersage DWD'));
    expect(forecast[0]).toMatch(
      new RegExp(`^HINWEIS Stufe 1: STARKREGEN, Radarvorhersage DWD: [\\d,]+ mm in 60 min erwartet für Einzugsgebiet .*Alarm ${pre.id}$`),
    );
    expect(forecast[1]).toMatch(new RegExp(`^HÖHER: WARNUNG Stufe 2: STARKREGEN, Radarvorhersage DWD: .*Alarm ${pre.id}$`));
    console.log(texts.join('\n'));
  }, 600_000);
});
