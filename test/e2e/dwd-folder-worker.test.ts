// DWD warnings for installations without internet, and a crashing fetch worker: CAP zips dropped into
// DWD_CAP_DIR fire and end the dwd_warning alarm like fetched ones, a file that is no DWD alert is listed with
// its reason (never silently dropped), and when the fetch worker dies it is started again — the open alarm
// stays, uplinks are still acknowledged, and the next dropped warning is read. [docs/dwd.md Warnings]
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capXml, capZip } from '../helpers/dwd.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const GIESSEN_CELL = '806531005';
const DEVICE = 'dwd-warnungen-default';

describe('DWD warnings from a drop folder, and a fetch worker that crashes (pglite)', () => {
  let s: TestSystem;
  let dir: string;
  let ruleId: string;
  const alarms = async () => (await s.ok('GET', `/api/v1/alarms?state=all&ruleId=${ruleId}`)).items as { id: string; severity: string; state: string }[];
  /** a new snapshot: written under a temporary name and renamed, as a transfer tool should */
  const drop = (name: string, bytes: Uint8Array | string) => {
    const tmp = path.join(dir, `.${name}.part`);
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, path.join(dir, name));
  };

  beforeAll(async () => {
    s = await startSystem({ store: 'pglite', env: { DWD_POLL: 'off', DWD_WARNINGS: 'folder', DWD_CAP_INTERVAL: '1s', CAP_ARS: 'default=065310005005' } });
    dir = path.join(s.dataDir, 'dwd-cap'); // the default DWD_CAP_DIR; removed with the data dir
    fs.mkdirSync(dir, { recursive: true });
    ruleId = (
      await s.ok('POST', '/api/v1/rules', {
        name: 'DWD Starkregen (Ablage)',
        kind: 'dwd_warning',
        metric: 'dwd_starkregen_level',
        scope: { tags: { source: 'dwd-warnings' } },
        levels: [
          { severity: 'moderate', threshold: 2 },
          { severity: 'severe', threshold: 3 },
        ],
      })
    ).id;
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('a dropped zip fires the alarm, a file that is no DWD alert is listed with its reason, a dropped Cancel ends it', async () => {
    const onset = Date.now() - 60_000;
    const warning = { id: '1700001000000.dddd', ii: 61, onset, expires: onset + 3 * 3600_000, warncells: [GIESSEN_CELL] };
    drop('Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip', capZip([capXml(warning)]));
    drop('notiz.xml', '<html>kein CAP</html>');
    const [fired] = await waitFor(async () => {
      const a = await alarms();
      return a.length > 0 && a;
    }, 30_000);
    expect(fired).toMatchObject({ severity: 'moderate', state: 'firing' });
    const status = await s.ok('GET', '/api/v1/dwd/warnings');
    expect(status.inForce.default).toEqual([expect.objectContaining({ warncell: GIESSEN_CELL, level: 2 })]);
    expect(status.rejectedFiles).toEqual([expect.objectContaining({ file: 'notiz.xml' })]);

    const cancel = { ...warning, id: '1700001600000.eeee', msgType: 'Cancel' as const, references: [warning.id] };
    drop('Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip', capZip([capXml(warning), capXml(cancel)]));
    const ended = await waitFor(async () => (await alarms()).find((a) => a.state === 'resolved'), 30_000, 'the all-clear after the Cancel');
    expect(ended.id).toBe(fired.id);
    fs.rmSync(path.join(dir, 'notiz.xml'));
  }, 120_000);

  it('the fetch worker crashes: it is restarted, the open alarm stays, uplinks are acknowledged, the next warning is read', async () => {
    const onset = Date.now() - 60_000;
    const first = { id: '1700002000000.ffff', ii: 61, onset, expires: onset + 3 * 3600_000, warncells: [GIESSEN_CELL] };
    drop('Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip', capZip([capXml(first)]));
    const open = await waitFor(async () => (await alarms()).find((a) => a.state === 'firing'), 30_000, 'the Starkregen alarm');

    const worker = s.ctx.dwd?.worker;
    expect(worker).toBeDefined();
    await worker!.kill();
    await s.ok('POST', '/api/v1/devices', { id: 'pegel-ablage', name: 'Pegel Ablage', model: 'generic', location: { lat: 50.58, lon: 8.67 }, params: {} });
    const client = await s.mqttClient();
    const t0 = Date.now() - 10_000;
    for (let i = 0; i < 5; i++) await publish(client, 'devices/pegel-ablage/up', { time: new Date(t0 + i * 1000).toISOString(), readings: { rain_mm: 0.2 } }); // each acknowledged (QoS 1)
    client.end(true);
    await waitFor(() => worker!.restarts >= 1, 30_000, 'the worker restarted');

    // the DWD upgrades its warning: the restarted worker reads it, and the same alarm escalates
    const upgrade = {
      ...first,
      id: '1700002600000.gggg',
      msgType: 'Update' as const,
      references: [first.id],
      ii: 62,
      event: 'HEFTIGER STARKREGEN',
      severity: 'Severe' as const,
    };
    drop('Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip', capZip([capXml(upgrade)]));
    const escalated = await waitFor(async () => (await alarms()).find((a) => a.id === open.id && a.severity === 'severe'), 30_000, 'the escalation');
    expect(escalated.state).toBe('firing');
    const stored = await s.ok('GET', '/api/v1/devices/pegel-ablage/readings?metric=rain_mm');
    expect(stored.points).toHaveLength(5);
    expect((await s.ok('GET', `/api/v1/devices/${DEVICE}`)).id).toBe(DEVICE);
  }, 120_000);
});
