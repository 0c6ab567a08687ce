import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CapInput, type CapMsgType, capAlertXml, capAtomFeed, capDateTime } from './cap.ts';
import { sampleAlarm } from './test-fixtures.ts';

// The OASIS schema travels with the repo so the check runs on a fresh clone (test/fixtures/README.md).
const XSD = fileURLToPath(new URL('../../test/fixtures/cap/CAP-v1.2.xsd', import.meta.url));
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
const required = process.env.REQUIRE_EXTERNAL_SERVICES === '1';
const dir = mkdtempSync(join(tmpdir(), 'regenwacht-cap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs xmllint; returns '' on success, its complaint otherwise. */
function xmllint(xml: string, name: string, schema?: string): string {
  const file = join(dir, name);
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', ...(schema ? ['--schema', schema] : []), file], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr;
}

const {
  url: _url,
  deviceName,
  location,
  message: _m,
  ...alarm
} = sampleAlarm({
  deviceName: 'Pegel <Gießen> & "Nord"',
  ruleName: 'Starkregen <1h> & mehr',
});

function input(msgType: CapMsgType, withLocation: boolean, over: Partial<CapInput> = {}): CapInput {
  const sender = 'regenwacht@giessen.example.de';
  return {
    alarm: msgType === 'Cancel' ? { ...alarm, state: 'resolved', resolvedAt: '2026-07-14T13:20:00.000Z' } : alarm,
    device: { name: deviceName, location: withLocation ? location : null },
    msgType,
    identifier: `regenwacht.alarm.123.${msgType}`,
    sent: new Date('2026-07-14T12:05:03.456Z'),
    references: msgType === 'Alert' ? [] : [`${sender},regenwacht.alarm.123.Alert,2026-07-14T12:05:03+00:00`],
    sender,
    publicUrl: 'https://regenwacht.example.de/',
    ...over,
  };
}

const matrix = (['Alert', 'Update', 'Cancel'] as const).flatMap((t) => [[t, true] as const, [t, false] as const]);

describe.skipIf(!hasXmllint && !required)('CAP 1.2 against the OASIS schema (xmllint)', () => {
  it('has xmllint available', () => {
    // under REQUIRE_EXTERNAL_SERVICES=1 a missing xmllint fails here instead of skipping [README.md]
    expect(hasXmllint, 'xmllint missing: apt-get install -y libxml2-utils').toBe(true);
  });

  it.each(matrix)('%s (location: %s) validates', (msgType, withLocation) => {
    const xml = capAlertXml(input(msgType, withLocation));
    expect(xmllint(xml, `${msgType}-${withLocation}.xml`, XSD)).toBe('');
  });

  it.each(['minor', 'moderate', 'severe', 'extreme'] as const)('severity %s and an offline alarm validate', (severity) => {
    const xml = capAlertXml(input('Update', true, { alarm: { ...alarm, severity, metric: 'level_cm', unit: 's', window: null } }));
    expect(xmllint(xml, `sev-${severity}.xml`, XSD)).toBe('');
  });

  it.each(['Alert', 'Cancel'] as const)('an alarm on DWD data (%s) validates with its <source> and attribution', (msgType) => {
    const over = { metric: 'forecast_60min_mm', unit: 'mm', window: null, deviceId: 'catchment-lahn-nord' };
    const base = input(msgType, false);
    const xml = capAlertXml({ ...base, alarm: { ...base.alarm, ...over } });
    expect(xml).toContain('<source>Datenbasis: Deutscher Wetterdienst (CC BY 4.0)</source>');
    expect(xmllint(xml, `dwd-${msgType}.xml`, XSD)).toBe('');
    const warning = capAlertXml({ ...base, alarm: { ...base.alarm, metric: 'dwd_starkregen_level', unit: 'Stufe', value: 3, threshold: 3, window: null } });
    expect(xmllint(warning, `dwd-warning-${msgType}.xml`, XSD)).toBe('');
  });

  it('the schema check can fail: a "Z" timestamp is rejected', () => {
    const bad = capAlertXml(input('Alert', true)).replace('2026-07-14T12:05:03+00:00', '2026-07-14T12:05:03Z');
    expect(xmllint(bad, 'bad.xml', XSD)).not.toBe('');
  });

  it('the Atom feed is well-formed', () => {
    const feed = capAtomFeed(
      [
        {
          alarm,
          identifier: 'regenwacht.alarm.123.Alert',
          sent: new Date('2026-07-14T12:05:03Z'),
          xmlUrl: 'https://x.example/api/v1/cap/alerts/123.xml?a=1&b=2',
          title: 'UNWETTER <Stufe 3> & "Starkregen"',
        },
        {
          alarm: { ...alarm, id: '124', severity: 'extreme' },
          identifier: 'regenwacht.alarm.124.Update',
          sent: new Date('2026-07-14T12:35:00Z'),
          xmlUrl: 'https://x.example/api/v1/cap/alerts/124.xml',
          title: 'EXTREMES UNWETTER',
        },
      ],
      { selfUrl: 'https://x.example/api/v1/cap/alerts.atom', updated: new Date('2026-07-14T12:35:00Z') },
    );
    expect(xmllint(feed, 'feed.atom')).toBe('');
    expect(xmllint(capAtomFeed([], { selfUrl: 'https://x.example/a.atom', updated: new Date() }), 'empty.atom')).toBe('');
  });
});

describe('capAlertXml content', () => {
  it('a radar nowcast alarm: a forecast (Likely) for the catchment, with the DWD as source and attribution [issue 20]', () => {
    const xml = capAlertXml(
      input('Alert', false, {
        alarm: {
          ...alarm,
          metric: 'forecast_60min_mm',
          unit: 'mm',
          value: 28,
          threshold: 20,
          window: null,
          deviceId: 'catchment-lahn-nord',
          severity: 'minor',
        },
        device: { name: 'Einzugsgebiet Lahn-Nord', location: null },
      }),
    );
    expect(xml).toContain('<source>Datenbasis: Deutscher Wetterdienst (CC BY 4.0)</source>');
    expect(xml).toContain('<certainty>Likely</certainty>');
    expect(xml).toContain('Für Einzugsgebiet Lahn-Nord (catchment-lahn-nord): Radarvorhersage DWD: 28 mm in 60 min erwartet (Schwelle 20 mm).');
    expect(xml).not.toContain('gemessen');
    expect(xml).toMatch(/<instruction>[^<]*Quelle: Deutscher Wetterdienst\.<\/instruction>/);
    expect(xml).toContain('<valueName>attribution</valueName>');
  });

  it('a DWD warning alarm names the DWD once in its instruction; a gauge alarm carries no DWD source', () => {
    const xml = capAlertXml(
      input('Alert', false, { alarm: { ...alarm, metric: 'dwd_starkregen_level', unit: 'Stufe', value: 3, threshold: 3, window: null } }),
    );
    expect(xml.match(/Quelle: Deutscher Wetterdienst/g)).toHaveLength(1);
    expect(xml).toContain('<source>Datenbasis: Deutscher Wetterdienst (CC BY 4.0)</source>');
    const gauge = capAlertXml(input('Alert', false));
    expect(gauge).not.toContain('<source>');
    expect(gauge).not.toContain('Wetterdienst');
    expect(gauge).toContain('<certainty>Observed</certainty>');
  });

  it('carries the required CAP values', () => {
    const xml = capAlertXml(input('Alert', true));
    expect(xml).toContain('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">');
    for (const s of [
      '<sent>2026-07-14T12:05:03+00:00</sent>',
      '<status>Actual</status>',
      '<msgType>Alert</msgType>',
      '<scope>Restricted</scope>',
      '<language>de-DE</language>',
      '<category>Met</category>',
      '<event>HEFTIGER STARKREGEN</event>',
      '<urgency>Immediate</urgency>',
      '<severity>Severe</severity>',
      '<certainty>Observed</certainty>',
      '<circle>50.5841,8.6784 1</circle>',
      '<web>https://regenwacht.example.de/api/v1/alarms/123</web>',
    ]) {
      expect(xml).toContain(s);
    }
    expect(xml).not.toContain('<references>');
    expect(xml).toMatch(/<instruction>[^<]*Keller/);
  });

  it('escapes names and omits the circle without a location', () => {
    const xml = capAlertXml(input('Update', false));
    expect(xml).toContain('Pegel &lt;Gießen&gt; &amp; &quot;Nord&quot;');
    expect(xml).not.toContain('<Gießen>');
    expect(xml).not.toContain('<circle>');
    expect(xml).toMatch(/<area>\s*<areaDesc>Pegel &lt;Gießen&gt;/);
    expect(xml).toContain('<references>regenwacht@giessen.example.de,regenwacht.alarm.123.Alert,2026-07-14T12:05:03+00:00</references>');
  });

  it('says Entwarnung on Cancel and maps water levels to Env/Hochwasser', () => {
    const cancel = capAlertXml(input('Cancel', true));
    expect(cancel).toContain('<headline>Entwarnung: UNWETTER Stufe 3: HEFTIGER STARKREGEN');
    expect(cancel).toContain('<responseType>AllClear</responseType>');
    const level = capAlertXml(input('Alert', true, { alarm: { ...alarm, metric: 'level_cm', unit: 'cm', value: 612, threshold: 600, window: null } }));
    expect(level).toContain('<category>Env</category>');
    expect(level).toContain('<event>HOCHWASSER</event>');
    expect(level).toContain('<headline>HOCHWASSER Meldestufe II an ');
    expect(level).toContain('Pegel 612 cm (Schwelle 600 cm)');
  });

  it('is Public only when configured, and never for a sensor outage', () => {
    expect(capAlertXml({ ...input('Alert', true), scope: 'Public' })).toContain('<scope>Public</scope>');
    const outage = capAlertXml({
      ...input('Alert', true, { alarm: { ...alarm, metric: 'uplink', unit: 's', value: 3600, threshold: 1800, window: '30m' } }),
      scope: 'Public',
    });
    expect(outage).toContain('<scope>Restricted</scope>');
    expect(outage).toMatch(/<restriction>[^<]+<\/restriction>/);
  });

  it('rejects identifiers CAP forbids', () => {
    expect(() => capAlertXml(input('Alert', true, { identifier: 'a b' }))).toThrow(RangeError);
    expect(() => capAlertXml(input('Alert', true, { sender: 'x,y' }))).toThrow(RangeError);
  });

  it('formats sent without milliseconds or Z', () => {
    expect(capDateTime(new Date('2026-01-02T03:04:05.999Z'))).toBe('2026-01-02T03:04:05+00:00');
  });
});
