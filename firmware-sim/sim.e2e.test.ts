// The simulator against the real system: setup through the HTTP API, uplinks through the embedded broker,
// readings in the store and DWD heavy-rain alarms of the severity docs/reference/domain.md predicts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from './args.ts';
import { runSimulator } from './simulator.ts';

const appPath = path.resolve(import.meta.dirname, '../services/app.ts');

interface App {
  httpUrl: string;
  mqttUrl: string;
  adminToken: string;
  stop(): Promise<void>;
}

describe('simulator → Regenwacht end to end', () => {
  let app: App;
  let dataDir: string;
  const api = async (p: string): Promise<any> => {
    const res = await fetch(`${app.httpUrl}${p}`, { headers: { authorization: `Bearer ${app.adminToken}` } });
    expect(res.status, `GET ${p}`).toBe(200);
    return res.json();
  };
  const items = (b: any): any[] => (Array.isArray(b) ? b : (b?.items ?? []));

  async function alarmFor(deviceId: string, severity: string, timeoutMs = 20_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    let last: any[] = [];
    while (Date.now() < until) {
      last = items(await api(`/api/v1/alarms?deviceId=${encodeURIComponent(deviceId)}`));
      const hit = last.find((a) => a.severity === severity);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no ${severity} alarm for ${deviceId}; alarms: ${JSON.stringify(last)}`);
  }

  async function rainSum(deviceId: string, from: string, to: string): Promise<number> {
    const q = new URLSearchParams({ metric: 'rain_mm', from, to }).toString();
    const body = await api(`/api/v1/devices/${encodeURIComponent(deviceId)}/readings?${q}`);
    expect(body.points.length).toBeGreaterThan(50);
    return body.points.reduce((s: number, p: { value: number }) => s + p.value, 0);
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'regenwacht-sim-e2e-'));
    const { startRegenwacht } = await import(appPath);
    app = await startRegenwacht({ dataDir, httpPort: 0, mqttPort: 0, logLevel: 'warn' });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const common = (): string[] => [
    '--setup',
    '--api',
    app.httpUrl,
    '--token',
    app.adminToken,
    '--broker',
    app.mqttUrl,
    '--scenario',
    'euler2',
    '--duration',
    '60m',
    '--speed',
    '3600',
    '--seed',
    'e2e',
  ];

  it('Berlin T=100 a, D=60 min (48.9 mm, S5) over ChirpStack → extreme (> 40 mm/1 h)', async () => {
    const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const s = await runSimulator([
      ...common(),
      '--cell',
      'berlin',
      '--return-period',
      '100',
      '--devices',
      '2',
      '--model',
      'dragino-sn50v3-count',
      '--format',
      'chirpstack',
    ]);
    expect(s).toMatchObject({ sent: 122, acknowledged: 122, errors: 0 });
    expect(s.setup).toMatchObject({ devicesCreated: 2, ruleCreated: true });
    const to = new Date(Date.now() + 60_000).toISOString();
    for (const id of s.deviceIds) {
      const alarm = await alarmFor(id, 'extreme');
      expect(alarm).toMatchObject({ metric: 'rain_mm', state: 'firing', ruleName: 'Simulator DWD Starkregen' });
      // 48.9 mm through a 0.2 mm bucket = 244 tips = 48.8 mm; the first count only sets the baseline
      expect(await rainSum(id, from, to)).toBeCloseTo(48.8, 6);
    }
  });

  // DevEUIs are 5E55…n for every model [firmware-sim/README.md], so a second model cannot reuse n = 1, 2: the new
  // third gauge gets this storm alone (1 and 2 get it on top of the first, staying extreme).
  it('cell 117111 T=30 a, D=60 min (36.6 mm, S3) over TTS → severe, not extreme', async () => {
    const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const s = await runSimulator([
      ...common(),
      '--cell',
      '117111',
      '--return-period',
      '30',
      '--devices',
      '3',
      '--model',
      'dragino-sn50v3-count',
      '--format',
      'tts',
    ]);
    expect(s).toMatchObject({ sent: 183, acknowledged: 183, errors: 0 });
    expect(s.setup).toMatchObject({ devicesCreated: 1, devicesExisting: 2, ruleCreated: false, ruleUpdated: true });
    const id = s.deviceIds[2];
    await alarmFor(id, 'severe');
    const alarms = items(await api(`/api/v1/alarms?deviceId=${id}`));
    expect(alarms.filter((a) => a.severity === 'extreme')).toHaveLength(0);
    expect(await rainSum(id, from, new Date(Date.now() + 60_000).toISOString())).toBeCloseTo(36.6, 6);
  });

  it('setup a second time, with the token from REGENWACHT_TOKEN instead of the command line, changes nothing', async () => {
    const argv = [...common(), '--scenario', 'dry', '--devices', '3', '--model', 'dragino-sn50v3-count', '--duration', '5m'];
    argv.splice(argv.indexOf('--token'), 2);
    expect(argv.join(' ')).not.toContain(app.adminToken);
    const opts = parseCli(argv, { REGENWACHT_TOKEN: app.adminToken });
    if (opts === 'help') throw new Error('unexpected help');
    const s = await runSimulator(opts);
    expect(s.errors).toBe(0);
    expect(s.setup).toMatchObject({ devicesCreated: 0, devicesExisting: 3, ruleCreated: false, routesCreated: [] });
    expect(s.setup!.ruleUpdated).toBeFalsy();
  });
});
