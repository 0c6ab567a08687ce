// Shared sample alarms for channel tests.
import type { Severity } from '../types.ts';
import type { NotificationAlarm, NotificationEventType, NotificationPayload } from './types.ts';

export function sampleAlarm(over: Partial<NotificationAlarm> = {}): NotificationAlarm {
  return {
    id: '123',
    ruleId: 'rule-7',
    ruleName: 'Starkregen Gießen-Nord',
    deviceId: 'gauge-01',
    metric: 'rain_mm',
    severity: 'severe' as Severity,
    state: 'firing',
    value: 28.8,
    threshold: 25,
    unit: 'mm',
    window: '1h',
    mode: 'active',
    startedAt: '2026-07-14T12:05:00.000Z', // 14:05 in Berlin (CEST)
    updatedAt: '2026-07-14T12:35:00.000Z',
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    deviceName: 'Pegel Gießen-Nord',
    location: { lat: 50.5841, lon: 8.6784 },
    message: 'UNWETTER Stufe 3: Starkregen an Pegel Gießen-Nord',
    url: 'https://regenwacht.example.de/alarms/123',
    ...over,
  };
}

export function samplePayload(type: NotificationEventType = 'alarm.firing', over: Partial<NotificationAlarm> = {}): NotificationPayload {
  return { type, timestamp: '2026-07-14T12:05:03.000Z', alarm: sampleAlarm(over) };
}
