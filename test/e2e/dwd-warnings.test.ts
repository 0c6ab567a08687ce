// DWD warnings as a rule input, end to end: a local fake of the DWD open-data server serves CAP snapshots
// (made from the real DWD sample), the fetch worker reads them with conditional GETs, the municipality's DWD
// warning device carries the level in force, and a dwd_warning rule fires at the DWD's onset and ends with the
// DWD's Cancel or expiry. [docs/dwd.md Warnings]

import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAP_PATH, CAP_SAMPLE_ZIP, capXml, capZip, type FakeDwd, fakeDwdServer } from '../helpers/dwd.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const GIESSEN_CELL = '806531005'; // 8 + AGS 06531005, from CAP_ARS 065310005005
const DEVICE = 'dwd-warnungen-default';

interface AlarmRow {
  id: string;
  deviceId: string;
  severity: string;
  state: string;
  startedAt: string;
  resolvedAt: string | null;
}

describe.each(['pglite', 'pg'] as const)('DWD warnings feed on %s', (store) => {
  let dwd: FakeDwd;
  let s: TestSystem;
  const alarms = async (ruleId: string) => (await s.ok<{ items: AlarmRow[] }>('GET', `/api/v1/alarms?state=all&ruleId=${ruleId}`)).items;

  beforeAll(async () => {
    dwd = await fakeDwdServer();
    dwd.files.set(CAP_PATH, new Uint8Array(fs.readFileSync(CAP_SAMPLE_ZIP))); // real snapshot: nothing for Gießen
    s = await startSystem({
      store,
      env: { DWD_OPENDATA_URL: dwd.url, DWD_POLL: '1s', CAP_ARS: 'default=065310005005' },
    });
  });
  afterAll(async () => {
    await s?.close();
    await dwd?.close();
  });

  it('a HEFTIGER STARKREGEN warning for the municipality fires the dwd_warning rule; the DWD Cancel ends it', async () => {
    const rule = await s.ok<{ id: string }>('POST', '/api/v1/rules', {
      name: 'DWD Unwetter Starkregen',
      kind: 'dwd_warning',
      metric: 'dwd_starkregen_level',
      scope: { tags: { source: 'dwd-warnings' } },
      levels: [
        { severity: 'moderate', threshold: 2 },
        { severity: 'severe', threshold: 3 },
      ],
    });
    // the real snapshot is read (its Brandenburg Starkregen is not ours): level 0 stored, no alarm
    await waitFor(async () => (await s.ok('GET', '/api/v1/dwd/warnings')).lastSuccessAt, 10_000, 'first DWD fetch');
    expect(await alarms(rule.id)).toEqual([]);
    // the server answers the repeated fetch of an unchanged file with 304
    await waitFor(() => dwd.requests.some((r) => r.status === 304 && r.conditional), 10_000, 'a 304 to a conditional GET');

    const onset = Date.now() - 60_000;
    const warning = {
      id: '1700000000000.aaaa',
      ii: 62,
      event: 'HEFTIGER STARKREGEN',
      severity: 'Severe' as const,
      onset,
      expires: onset + 3 * 3600_000,
      warncells: [GIESSEN_CELL],
    };
    dwd.files.set(CAP_PATH, capZip([capXml(warning)]));
    const [fired] = await waitFor(
      async () => {
        const a = await alarms(rule.id);
        return a.length > 0 && a;
      },
      15_000,
      'the dwd_warning alarm',
    );
    expect(fired).toMatchObject({ deviceId: DEVICE, severity: 'severe', state: 'firing' });

    const status = await s.ok('GET', '/api/v1/dwd/warnings');
    expect(status.inForce.default).toEqual([expect.objectContaining({ warncell: GIESSEN_CELL, level: 3, event: 'HEFTIGER STARKREGEN' })]);
    expect(status.attribution).toMatch(/Deutscher Wetterdienst/);
    // the message says where the warning comes from
    const cap = await s.api<string>('GET', `/api/v1/cap/alerts/${fired.id}.xml`);
    expect(cap.body).toContain('DWD HEFTIGER STARKREGEN');
    expect(cap.body).toContain('Deutscher Wetterdienst');

    // the DWD cancels: the alarm ends (all-clear), not at expiry three hours later
    const cancel = { ...warning, id: '1700000600000.bbbb', msgType: 'Cancel' as const, references: [warning.id] };
    dwd.files.set(CAP_PATH, capZip([capXml(warning), capXml(cancel)]));
    const ended = await waitFor(async () => (await alarms(rule.id)).find((a) => a.state === 'resolved'), 15_000, 'the all-clear after the Cancel');
    expect(ended.id).toBe(fired.id);
  });

  it('a warning ends at the DWD expiry even while the server fails, and the failure is reported', async () => {
    const rule = await s.ok<{ id: string }>('POST', '/api/v1/rules', {
      name: 'DWD Starkregen ab Stufe 2',
      kind: 'dwd_warning',
      scope: { tags: { source: 'dwd-warnings' } },
      levels: [{ severity: 'moderate', threshold: 2 }],
    });
    const onset = Math.floor(Date.now() / 1000) * 1000; // CAP times are whole seconds
    const expires = onset + 6_000;
    dwd.files.set(CAP_PATH, capZip([capXml({ id: '1700000900000.cccc', onset, expires, warncells: [GIESSEN_CELL] })]));
    const [fired] = await waitFor(
      async () => {
        const a = await alarms(rule.id);
        return a.length > 0 && a;
      },
      15_000,
      'the Starkregen alarm',
    );
    expect(fired.severity).toBe('moderate');
    dwd.fail.add(CAP_PATH); // the server fails from now on; the expiry is known already
    const ended = await waitFor(async () => (await alarms(rule.id)).find((a) => a.state === 'resolved'), 20_000, 'the all-clear at expiry');
    expect(Date.parse(ended.resolvedAt ?? '')).toBeGreaterThanOrEqual(expires);
    expect(Date.parse(ended.resolvedAt ?? '')).toBeLessThan(expires + 20_000); // one evaluation pass later, on a busy machine
    const status = await waitFor(
      async () => {
        const st = await s.ok('GET', '/api/v1/dwd/warnings');
        return st.lastError && st;
      },
      20_000,
      'the fetch error reported',
    );
    expect(status.lastError.message).toMatch(/HTTP 500/);
    dwd.fail.delete(CAP_PATH);
  });
});

describe('DWD warnings configured only through the API: DWD_OPENDATA_URL, DWD_POLL, PUT /api/v1/orgs/{org}', () => {
  const FULDA_CELL = '806631009'; // Stadt Fulda: 8 + AGS 06631009
  let dwd: FakeDwd;
  let s: TestSystem;

  beforeAll(async () => {
    dwd = await fakeDwdServer();
    dwd.files.set(CAP_PATH, new Uint8Array(fs.readFileSync(CAP_SAMPLE_ZIP)));
    s = await startSystem({ store: 'pglite', env: { DWD_OPENDATA_URL: dwd.url, DWD_POLL: '1s' } });
  });
  afterAll(async () => {
    await s?.close();
    await dwd?.close();
  });

  it('the warncell set per org and the short rule {"kind":"dwd_warning","minLevel":3,"events":["STARKREGEN"]} fire on a warning for Fulda', async () => {
    expect(await s.ok('GET', '/api/v1/orgs/default')).toEqual({ org: 'default', warncellId: null });
    expect(await s.ok('PUT', '/api/v1/orgs/default', { warncellId: FULDA_CELL })).toEqual({ org: 'default', warncellId: FULDA_CELL });
    const rule = await s.ok<{ id: string; metric: string }>('POST', '/api/v1/rules', { kind: 'dwd_warning', minLevel: 3, events: ['STARKREGEN'] });
    expect(rule.metric).toBe('dwd_starkregen_level');
    await waitFor(async () => (await s.ok('GET', '/api/v1/dwd/warnings')).lastSuccessAt, 15_000, 'the first fetch once a warncell is set');
    expect(dwd.requests.some((r) => r.path === CAP_PATH)).toBe(true);

    const onset = Date.now() - 60_000;
    const severe = { id: '1700001000000.dddd', ii: 62, event: 'HEFTIGER STARKREGEN', severity: 'Severe' as const, onset, expires: onset + 3 * 3600_000 };
    dwd.files.set(CAP_PATH, capZip([capXml({ ...severe, warncells: [FULDA_CELL] })]));
    const [fired] = await waitFor(
      async () => {
        const a = (await s.ok<{ items: AlarmRow[] }>('GET', `/api/v1/alarms?state=all&ruleId=${rule.id}`)).items;
        return a.length > 0 && a;
      },
      15_000,
      'the dwd_warning alarm for Fulda',
    );
    expect(fired).toMatchObject({ deviceId: DEVICE, severity: 'severe' });
    expect((await s.ok('GET', `/api/v1/devices/${DEVICE}`)).params).toMatchObject({ warncell: FULDA_CELL });
  });
});
