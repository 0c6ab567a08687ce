import { describe, expect, it } from 'vitest';
import { SEVERITIES, type Severity } from '../types.ts';
import { toGsm7 } from './gsm7.ts';
import { ackable, gsm7Length, isGsm7, SEVERITY_WORDS, SMS_MAX, smsText } from './sms-text.ts';
import { samplePayload } from './test-fixtures.ts';
import { NOTIFICATION_EVENT_TYPES, type NotificationAlarm } from './types.ts';

describe('smsText', () => {
  it('reads like the contract example for a firing rain alarm', () => {
    const text = smsText(samplePayload('alarm.firing'));
    expect(text).toBe('UNWETTER Stufe 3: HEFTIGER STARKREGEN, 28,8 mm Regen in 1 h (Schwelle 25 mm) an Pegel Gießen-Nord (gauge-01) seit 14:05. Alarm 123');
  });

  it('a silent sensor of an open alarm: SENSOR STILL, since when no data came, the alarm kept', () => {
    const text = smsText({ ...samplePayload('alarm.stale'), lastReadingAt: '2026-07-14T12:40:00Z' });
    expect(text).toBe(
      'SENSOR STILL: UNWETTER Stufe 3: HEFTIGER STARKREGEN, zuletzt 28,8 mm Regen in 1 h (Schwelle 25 mm) an Pegel Gießen. (gauge-01) keine Daten seit 14:40. Alarm 123',
    );
  });

  it.each([
    ['alarm.escalated', /^HÖHER: UNWETTER Stufe 3: .* um 14:35\. Alarm 123$/],
    ['alarm.deescalated', /^NIEDRIGER: UNWETTER Stufe 3: .* um 14:35\. Alarm 123$/],
    ['alarm.reminder', /^ERINNERUNG: UNWETTER Stufe 3: .* seit 14:05\. Alarm 123$/],
    ['alarm.resolved', /^ENTWARNUNG: UNWETTER Stufe 3 beendet: HEFTIGER STARKREGEN, 1-h-Summe jetzt 28,8 mm \(Schwelle 25 mm\) .* um 15:20\. Alarm 123$/],
    ['alarm.acknowledged', /^QUITTIERT von Anna Schäfer: UNWETTER Stufe 3: .* um 14:10\. Alarm 123$/],
  ] as const)('words %s', (type, pattern) => {
    const text = smsText(
      samplePayload(type, {
        acknowledgedBy: 'Anna Schäfer',
        acknowledgedAt: '2026-07-14T12:10:00Z',
        resolvedAt: '2026-07-14T13:20:00Z',
      }),
    );
    expect(text).toMatch(pattern);
  });

  it('uses Berlin local time in winter too (CET, UTC+1)', () => {
    expect(smsText(samplePayload('alarm.firing', { startedAt: '2026-01-10T23:30:00Z' }))).toContain('seit 00:30.');
  });

  it.each([
    ['minor', 'HINWEIS Stufe 1'],
    ['moderate', 'WARNUNG Stufe 2'],
    ['severe', 'UNWETTER Stufe 3'],
    ['extreme', 'EXTREMES UNWETTER Stufe 4'],
  ] as const)('maps %s to "%s"', (severity, words) => {
    expect(smsText(samplePayload('alarm.firing', { severity }))).toMatch(new RegExp(`^${words}: `));
  });

  it.each([
    [{ metric: 'level_cm', unit: 'cm', severity: 'severe', window: null }, /^HOCHWASSER Meldestufe II: Pegel /],
    [{ metric: 'level_cm', unit: 'cm', severity: 'moderate', window: '15m' }, /^PEGELANSTIEG 28,8 cm in 15 min an /],
    [{ metric: 'uplink', unit: 's', severity: 'moderate', value: 1800, window: '30m' }, /^SENSORAUSFALL \(Stufe 2\): keine Daten seit 30 min/],
    [{ metric: 'battery_v', unit: 'V', severity: 'minor', value: 3.1, threshold: 3.3, window: null }, /^ALARM Stufe 1: /],
  ] as const)("speaks the hazard's language: %j", (figures, pattern) => {
    const text = smsText(samplePayload('alarm.firing', figures));
    expect(text).toMatch(pattern);
    expect(text).not.toContain('UNWETTER');
  });

  it.each([
    [{ metric: 'level_cm', unit: 'cm', value: 612, threshold: 600, window: null }, 'Pegel 612 cm (Schwelle 600 cm)'],
    [{ metric: 'level_cm', unit: 'cm', value: 25.4, threshold: 20, window: '15m' }, 'PEGELANSTIEG 25,4 cm in 15 min an '],
    [{ metric: 'temperature_c', unit: '°C', value: -3.25, threshold: 0, window: null }, 'Temperatur -3,25 Grad'],
    [{ metric: 'rain_mm', unit: 's', value: 5400, threshold: 3600, window: '1h' }, 'keine Daten seit 90 min'],
  ])('phrases %j', (figures, phrase) => {
    const text = smsText(samplePayload('alarm.firing', figures));
    expect(text).toContain(phrase);
    expect(isGsm7(text)).toBe(true);
  });

  const longName = 'Regenrückhaltebecken Große Wiese am Überlauf Gießen-Kleinlinden'.slice(0, 60);
  const hostile: Array<[string, Partial<NotificationAlarm>]> = [
    ['60-char umlaut name, huge values', { deviceName: longName, value: 123456789.987, threshold: 987654321.5 }],
    ['absurd values', { deviceName: longName, value: 1.5e300, threshold: -9.99e200, window: '360m' }],
    [
      'non-GSM name, uuid id, long device id',
      {
        deviceName: 'Pegel Kraków „Ostbrücke“ – Şehir’s Überlauf {alt} [€] ~ |ÄÖÜ|'.padEnd(60, 'ß'),
        id: '9f1c2b7e-3a4d-4e5f-8a9b-0c1d2e3f4a5b',
        deviceId: 'sim-dragino-ldds75-1234567890',
        value: 99999999.99,
        acknowledgedBy: 'Einsatzleitung Feuerwehr Gießen-Kleinlinden (Łukasz Öztürk)',
      },
    ],
  ];

  describe.each(hostile)('worst case: %s', (_label, over) => {
    const cases = SEVERITIES.flatMap((s) => NOTIFICATION_EVENT_TYPES.map((t) => [s, t] as const));
    it.each(cases)('%s × %s fits one SMS and keeps severity and alarm id', (severity: Severity, type) => {
      const alarm = { severity, ...over };
      const text = smsText(samplePayload(type, { ...alarm, acknowledgedAt: '2026-07-14T12:10:00Z', resolvedAt: '2026-07-14T13:20:00Z' }));
      expect(isGsm7(text)).toBe(true);
      expect(gsm7Length(text)).toBeLessThanOrEqual(160);
      expect(text).toContain(SEVERITY_WORDS[severity]);
      expect(text.endsWith(`Alarm ${over.id ?? '123'}`)).toBe(true);
    });
  });

  it('shortens the device name before anything else', () => {
    const text = smsText(samplePayload('alarm.firing', { deviceName: longName, severity: 'extreme', id: '1234567' }));
    expect(gsm7Length(text)).toBeLessThanOrEqual(160);
    expect(text).toContain('28,8 mm Regen in 1 h');
    expect(text).toContain('(gauge-01) seit 14:05');
    expect(text).not.toContain(longName);
    expect(text).toContain(longName.slice(0, 12));
  });
});

describe('GSM-7', () => {
  it('counts extension characters twice', () => {
    expect(gsm7Length('abc')).toBe(3);
    expect(gsm7Length('€[]{}^~|\\')).toBe(18);
    expect(gsm7Length('ÄÖÜäöüß')).toBe(7);
  });

  it('knows what is and is not GSM-7', () => {
    expect(isGsm7('Gießen: 28,8 mm @ 14:05 [Stufe 3] €')).toBe(true);
    expect(isGsm7('Kraków')).toBe(false);
    expect(isGsm7('„Pegel“')).toBe(false);
    expect(isGsm7('2 °C')).toBe(false);
  });

  it.each([
    ['Şehir', 'Sehir'],
    ['Łódź', 'Lodz'],
    ['Peter’s „Pegel“ – «Nord» …', 'Peter\'s "Pegel" - "Nord" ...'],
    ['Gießen Ärger Öl Übel', 'Gießen Ärger Öl Übel'],
    ['Ålesund Øre ñandú', 'Ålesund Øre ñandu'],
    ['水位 🌧', '?? ?'],
  ])('transliterates %s → %s', (input, expected) => {
    expect(toGsm7(input)).toBe(expected);
    expect(isGsm7(toGsm7(input))).toBe(true);
  });
});

describe('smsText with the acknowledge link [issue 16]', () => {
  const url = 'https://regenwacht.example.de/q/AbCdEfGhIjKlMnOp';

  it('ends with the recipient’s link, whole, inside 160 characters; the threshold makes room for it', () => {
    const short = 'https://rw.example.de/q/AbCdEfGhIjKlMnOp';
    const text = smsText(samplePayload('alarm.firing', { deviceName: 'Pegel Lahn' }), { ackUrl: short });
    expect(text).toBe(`UNWETTER Stufe 3: HEFTIGER STARKREGEN, 28,8 mm Regen in 1 h an Pegel Lahn (gauge-01) seit 14:05. Alarm 123 Quittieren: ${short}`);
    expect(gsm7Length(text)).toBeLessThanOrEqual(160);
  });

  it('the device id goes next to make room for the link; name and time stay', () => {
    const short = 'https://rw.example.de/q/AbCdEfGhIjKlMnOp';
    const text = smsText(samplePayload('alarm.firing', { deviceName: 'Pegel Gießen-Nord' }), { ackUrl: short });
    expect(text).toBe(`UNWETTER Stufe 3: HEFTIGER STARKREGEN, 28,8 mm Regen in 1 h an Pegel Gießen-Nord seit 14:05. Alarm 123 Quittieren: ${short}`);
    expect(gsm7Length(text)).toBeLessThanOrEqual(160);
  });

  it('never cuts the station name for the link: name and link do not fit, so the link is left out', () => {
    const name = 'Regenschreiber Gießen-Nord';
    const text = smsText(samplePayload('alarm.firing', { deviceName: name, id: '1' }), { ackUrl: url });
    expect(text).toBe(
      'UNWETTER Stufe 3: HEFTIGER STARKREGEN, 28,8 mm Regen in 1 h (Schwelle 25 mm) an Regenschreiber Gießen-Nord (gauge-01) seit 14:05. Alarm 1',
    );
    expect(text).not.toContain('Quittieren');
    // the same station with the default sample's name and link: also whole, also without the link
    const sample = smsText(samplePayload('alarm.firing'), { ackUrl: url });
    expect(sample).toContain('an Pegel Gießen-Nord (gauge-01) seit 14:05. Alarm 123');
    expect(sample).not.toContain('/q/');
  });

  it('a name too long for any SMS is still shortened as without a link, and the link is not sent', () => {
    const long = 'Regenrückhaltebecken Große Wiese am Überlauf Gießen-Kleinlinden';
    const text = smsText(samplePayload('alarm.firing', { deviceName: long, severity: 'extreme' }), { ackUrl: url });
    expect(text).toBe(smsText(samplePayload('alarm.firing', { deviceName: long, severity: 'extreme' })));
    expect(gsm7Length(text)).toBeLessThanOrEqual(160);
  });

  it('a PUBLIC_URL too long for the alarm to fit: the alarm is kept, the link left out', () => {
    const long = `https://${'x'.repeat(120)}.example.de/q/AbCdEfGhIjKlMnOp`;
    expect(smsText(samplePayload('alarm.firing'), { ackUrl: long })).toBe(smsText(samplePayload('alarm.firing')));
  });

  it('only open, unacknowledged alarms carry a link', () => {
    expect(ackable(samplePayload('alarm.firing'))).toBe(true);
    expect(ackable(samplePayload('alarm.escalated'))).toBe(true);
    expect(ackable(samplePayload('alarm.resolved', { state: 'resolved' }))).toBe(false);
    expect(ackable(samplePayload('alarm.acknowledged', { state: 'acknowledged' }))).toBe(false);
    expect(ackable(samplePayload('alarm.reminder', { state: 'acknowledged' }))).toBe(false);
  });
});

describe('SMS of a DWD warning alarm names the DWD as its source [docs/dwd.md Warnings]', () => {
  const dwd = {
    metric: 'dwd_starkregen_level',
    unit: 'Stufe',
    value: 3,
    threshold: 3,
    window: null,
    deviceId: 'dwd-warnungen-giessen',
    deviceName: 'DWD-Warnungen giessen',
  };
  it('firing: the DWD event, the level in force, and the Deutscher Wetterdienst as the source', () => {
    const t = smsText(samplePayload('alarm.firing', dwd));
    expect(t).toContain('UNWETTER Stufe 3: DWD HEFTIGER STARKREGEN');
    expect(t).toContain('amtliche Warnung des Deutschen Wetterdienstes, Stufe 3');
    expect(gsm7Length(t)).toBeLessThanOrEqual(SMS_MAX);
  });
  it('all-clear: no DWD warning in force any more', () => {
    expect(smsText(samplePayload('alarm.resolved', { ...dwd, value: 0 }))).toContain('keine Warnung des Deutschen Wetterdienstes mehr');
  });
});

describe('SMS of a radar nowcast alarm names the DWD forecast [docs/dwd.md Radar nowcast]', () => {
  it('"Radarvorhersage DWD: 28 mm in 60 min erwartet" for the catchment', () => {
    const t = smsText(
      samplePayload('alarm.firing', {
        metric: 'forecast_60min_mm',
        unit: 'mm',
        value: 28,
        threshold: 20,
        window: null,
        severity: 'minor',
        deviceId: 'catchment-lahn-nord',
        deviceName: 'Einzugsgebiet Lahn-Nord',
        startedAt: '2026-07-14T12:20:00.000Z',
      }),
    );
    expect(t).toContain('Radarvorhersage DWD: 28 mm in 60 min erwartet');
    expect(t).toContain('Einzugsgebiet Lahn-Nord');
    expect(t).toContain('14:20');
  });

  const fc = {
    metric: 'forecast_60min_mm',
    unit: 'mm',
    value: 28,
    threshold: 20,
    window: null,
    severity: 'minor' as const,
    deviceId: 'catchment-lahn-nord',
    deviceName: 'Einzugsgebiet Lahn-Nord',
    startedAt: '2026-07-14T12:05:00.000Z',
    expectedAt: '2026-07-14T12:20:00.000Z',
  };
  it('says for which catchment and from when the rain is expected: "für Einzugsgebiet Lahn-Nord, ab ca. 14:20" [issue 20]', () => {
    expect(smsText(samplePayload('alarm.firing', fc))).toBe(
      'HINWEIS Stufe 1: STARKREGEN, Radarvorhersage DWD: 28 mm in 60 min erwartet für Einzugsgebiet Lahn-Nord, ab ca. 14:20. Alarm 123',
    );
    expect(smsText(samplePayload('alarm.escalated', { ...fc, severity: 'moderate' }))).toContain('für Einzugsgebiet Lahn-Nord, ab ca. 14:20. Alarm 123');
    // a run that expects no crossing within 120 min: since when the alarm holds
    expect(smsText(samplePayload('alarm.firing', { ...fc, expectedAt: undefined }))).toContain('für Einzugsgebiet Lahn-Nord seit 14:05. Alarm 123');
    // the all-clear says when, not from when
    const end = smsText(samplePayload('alarm.resolved', { ...fc, value: 3, resolvedAt: '2026-07-14T12:50:00.000Z' }));
    expect(end).toContain('Radarvorhersage DWD jetzt 3 mm in 60 min für Einzugsgebiet Lahn-Nord um 14:50');
  });

  it('a long level and catchment name: the onset goes before the name is cut, the source always stays', () => {
    const name = 'Einzugsgebiet Wieseck oberhalb Gießen';
    const t = smsText(samplePayload('alarm.firing', { ...fc, severity: 'extreme', deviceName: name }));
    expect(gsm7Length(t)).toBeLessThanOrEqual(SMS_MAX);
    expect(t).toContain(`Radarvorhersage DWD: 28 mm in 60 min erwartet für ${name}. Alarm 123`);
  });
});
