import type { Alarm, ClosedReason, Severity } from '../../alerts/types.ts';

/** SQL condition for an alarm that has not ended (same predicate as the unique index alarms_one_open). */
export const OPEN_SQL = "state not in ('resolved', 'closed')";

export interface AlarmRow {
  id: number;
  rule_id: string;
  rule_name: string;
  device_id: string;
  metric: string;
  severity: Severity;
  state: Alarm['state'];
  value: number;
  threshold: number;
  unit: string;
  window_label: string | null;
  mode: 'active' | 'shadow';
  started_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  closed_at?: Date | null;
  closed_reason?: ClosedReason | null;
  /** the municipality of the device when the alarm fired (migration 008) */
  org?: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export const toAlarm = (r: AlarmRow): Alarm => ({
  id: String(r.id),
  ruleId: r.rule_id,
  ruleName: r.rule_name,
  deviceId: r.device_id,
  metric: r.metric,
  severity: r.severity,
  state: r.state,
  value: r.value,
  threshold: r.threshold,
  unit: r.unit,
  window: r.window_label,
  mode: r.mode,
  startedAt: iso(r.started_at) as string,
  updatedAt: iso(r.updated_at) as string,
  acknowledgedAt: iso(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  resolvedAt: iso(r.resolved_at),
  closedAt: iso(r.closed_at ?? null),
  closedReason: r.closed_reason ?? null,
});
