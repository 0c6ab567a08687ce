// The real DWD CAP samples (test/fixtures/dwd, CC BY 4.0, Datenbasis: Deutscher Wetterdienst) parse to the
// alerts a person reading the XML sees.
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { effectiveAlerts, levelsAt, rainHazardOf, warncellOfArs } from '../../alerts/dwd/dwd-warnings.ts';
import { parseCapXml, parseCapZip } from './cap-parse.ts';

const FIX = path.resolve(import.meta.dirname, '../../test/fixtures/dwd');
const zip = (name: string) => new Uint8Array(fs.readFileSync(path.join(FIX, name)));

describe('DWD CAP snapshot (real sample, MUL)', () => {
  const r = parseCapZip(zip('Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip'));
  const byId = (suffix: string) => r.alerts.find((a) => a.identifier.includes(suffix));

  it('reads all three alerts without problems, German wording', () => {
    expect(r.problems).toEqual([]);
    expect(r.alerts.map((a) => [a.event, a.ii, a.severity, a.msgType])).toEqual([
      ['WINDBÖEN', 51, 'Minor', 'Alert'],
      ['STARKREGEN', 61, 'Moderate', 'Update'],
      ['STARKREGEN', 61, 'Moderate', 'Update'],
    ]);
  });

  it('keeps onset, expiry, references and warncells of the Starkregen update', () => {
    const a = byId('20999218');
    expect(a).toMatchObject({
      status: 'Actual',
      onset: Date.parse('2023-06-23T09:56:00Z'),
      expires: Date.parse('2023-06-23T12:00:00Z'),
      references: ['2.49.0.0.276.0.DWD.PVW.1687483260000.e335908e-7419-4d5f-8376-422c14b4f25c.MUL'],
      headline: 'Amtliche WARNUNG vor STARKREGEN',
    });
    expect(a?.warncells).toHaveLength(45);
    expect(a?.warncells).toContain('803159007'); // Gemeinde Bovenden
    expect(byId('0d1a4fb5')?.warncells).toEqual(['812069270', '812063189', '812069018']);
  });

  it('a municipality in the Starkregen area has level 2 from onset to expiry, not before or after', () => {
    const alerts = effectiveAlerts(r.alerts);
    const cell = '803159007';
    expect(levelsAt(alerts, cell, Date.parse('2023-06-23T09:55:00Z')).dwd_starkregen_level).toBe(0);
    expect(levelsAt(alerts, cell, Date.parse('2023-06-23T10:30:00Z'))).toMatchObject({
      dwd_starkregen_level: 2,
      dwd_warning_level: 2,
      dwd_dauerregen_level: 0,
    });
    expect(levelsAt(alerts, cell, Date.parse('2023-06-23T12:00:00Z')).dwd_warning_level).toBe(0);
    // wind is no rain warning
    expect(rainHazardOf({ ii: 51, event: 'WINDBÖEN' })).toBeUndefined();
  });
});

describe('DWD CAP test message (real sample)', () => {
  it('parses, and a Test status never counts as a warning in force', () => {
    const r = parseCapZip(zip('Z_CAP_with_test.zip'));
    expect(r.problems).toEqual([]);
    expect(r.alerts.map((a) => [a.status, a.ii, a.event])).toEqual([['Test', 98, 'TEST-WARNUNG']]);
    expect(effectiveAlerts(r.alerts)).toEqual([]);
  });
});

describe('references, cancellations and bad files', () => {
  const base = fs.readFileSync(path.join(FIX, 'Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip'));
  const xml = new TextDecoder().decode(Object.values(unzipSync(new Uint8Array(base))).find((x) => new TextDecoder().decode(x).includes('0d1a4fb5')));

  it('a Cancel withdraws the alert it references', () => {
    const original = parseCapXml(xml);
    const cancel = parseCapXml(
      xml
        .replaceAll('0d1a4fb5-251a-46fc-aae3-a688d2021e71', 'cafe0000-0000-0000-0000-000000000000')
        .replace('<msgType>Update</msgType>', '<msgType>Cancel</msgType>')
        .replace(/<references>[^<]*<\/references>/, `<references>opendata@dwd.de,${original.identifier},2023-06-23T11:14:00+02:00</references>`),
    );
    expect(cancel.msgType).toBe('Cancel');
    expect(effectiveAlerts([original, cancel])).toEqual([]);
    expect(effectiveAlerts([original]).map((a) => a.identifier)).toEqual([original.identifier]);
  });

  it('a broken file is a problem with a reason; the others still parse', () => {
    const mixed = zipSync({ 'a.xml': new TextEncoder().encode(xml), 'b.xml': new TextEncoder().encode('<alert><status>Actual</status></alert>') });
    const r = parseCapZip(mixed);
    expect(r.alerts).toHaveLength(1);
    expect(r.problems).toEqual([{ file: 'b.xml', reason: expect.stringMatching(/info|sent|identifier/) }]);
    expect(parseCapZip(new TextEncoder().encode('not a zip')).problems[0].reason).toMatch(/not a readable zip/);
  });

  it('warncell of a municipality: 8 + AGS from the ARS (Gießen 065310005005 → 806531005)', () => {
    expect(warncellOfArs('065310005005')).toBe('806531005');
  });
});
