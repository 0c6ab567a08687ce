import { describe, expect, it } from 'vitest';
import { emailMessage } from './email.ts';
import { samplePayload } from './test-fixtures.ts';

const o = { notificationId: 'msg_1', domain: 'kreis.example', alarmUrl: 'https://regenwacht.example.de/alarms/123' };

describe('e-mail of an alarm on DWD data names the source [issue 20] [docs/dwd.md]', () => {
  it('a radar nowcast: the forecast sentence, when the rain is expected and the DWD attribution, in text and HTML', () => {
    const p = samplePayload('alarm.firing', {
      metric: 'forecast_60min_mm',
      unit: 'mm',
      value: 28,
      threshold: 20,
      window: null,
      severity: 'minor',
      deviceId: 'catchment-lahn-nord',
      deviceName: 'Einzugsgebiet Lahn-Nord',
      expectedAt: '2026-07-14T12:20:00.000Z',
      attribution: 'Datenbasis: Deutscher Wetterdienst (CC BY 4.0)',
    });
    const m = emailMessage(p, o);
    expect(m.text).toContain('Radarvorhersage DWD: 28 mm in 60 min erwartet für Einzugsgebiet Lahn-Nord, ab ca. 14:20');
    expect(m.text).toContain('Erwartet ab ca.: 14:20 (14.07.2026)');
    expect(m.text).toContain('Quelle: Datenbasis: Deutscher Wetterdienst (CC BY 4.0)');
    expect(m.html).toContain('Datenbasis: Deutscher Wetterdienst (CC BY 4.0)');
  });

  it('a gauge alarm names no DWD source', () => {
    const m = emailMessage(samplePayload('alarm.firing'), o);
    expect(m.text).not.toContain('Wetterdienst');
    expect(m.text).not.toContain('Quelle');
  });
});
