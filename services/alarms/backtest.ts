// A rule replayed over stored readings: what POST /api/v1/rules/:id/backtest answers and what the console's
// rule preview draws, from one place. The engine is the live engine's code. [docs/api.md Endpoints (backtest)]
import { RuleEngine } from '../../alerts/engine/rule-engine.ts';
import type { Rule, RuleScope } from '../../alerts/rules/rule-types.ts';
import { type Severity, severityRank, type Transition } from '../../alerts/types.ts';
import type { Db } from '../db/db.ts';
import type { Device, DeviceRegistry } from '../devices/device-registry.ts';
import { readingsOfDevices } from '../devices/readings.ts';
import { asEvaluatedLive, type EvaluatedReading } from '../ingest/quality-replay.ts';

/** The longest span one backtest covers. */
export const BACKTEST_MAX_MS = 31 * 86_400_000;

export interface BacktestAlarm {
  ruleId: string;
  deviceId: string;
  metric: string;
  severity: Severity;
  maxSeverity: Severity;
  startedAt: string;
  resolvedAt: string | null;
  value: number;
  threshold: number;
  mode: string;
}

export interface BacktestResult {
  /** the stations in the rule's scope */
  devices: Device[];
  /** the readings as live evaluation saw them (flagged ones left out, held ones at their release) */
  readings: EvaluatedReading[];
  transitions: Transition[];
  alarms: BacktestAlarm[];
}

/** The stations of a municipality a scope matches: a rule only ever sees its own municipality's devices. */
export function devicesInScope(devices: DeviceRegistry, scope: RuleScope, org: string): Device[] {
  return devices
    .list()
    .filter(
      (d) => d.org === org && (scope.deviceIds ? scope.deviceIds.includes(d.id) : true) && Object.entries(scope.tags ?? {}).every(([k, v]) => d.tags[k] === v),
    );
}

/** Replays `rule` of municipality `org` over the stored readings of (from, to]; `to - from` at most 31 days. */
export async function backtestRule(deps: { db: Db; devices: DeviceRegistry }, rule: Rule, org: string, from: number, to: number): Promise<BacktestResult> {
  const devices = devicesInScope(deps.devices, rule.scope, org);
  const longest = Math.max(0, ...rule.levels.map((l) => l.windowMs));
  // at least an hour before `from`: the quality filter judges a level against the readings before it
  const stored = await readingsOfDevices(
    deps.db,
    devices.map((d) => d.id),
    rule.metric ?? null,
    new Date(from - Math.max(longest, 3_600_000)),
    new Date(to),
  );
  // the quality filter's hold-and-release replayed, so a held level step counts when live evaluation saw it
  const readings = asEvaluatedLive(stored, (id) => deps.devices.get(id)?.params ?? {});
  const e = new RuleEngine();
  e.setDevices(devices.map((d) => ({ id: d.id, name: d.name, tags: d.tags, location: d.location })));
  const transitions = e.backtest(rule, readings, from, to);
  return { devices, readings, transitions, alarms: groupAlarms(transitions) };
}

/** Transitions of a backtest folded into the alarms they would have been. */
export function groupAlarms(ts: Transition[]): BacktestAlarm[] {
  const open = new Map<string, BacktestAlarm>();
  const out: BacktestAlarm[] = [];
  for (const t of ts) {
    const k = `${t.ruleId}/${t.deviceId}`;
    if (t.kind === 'firing') {
      const a: BacktestAlarm = {
        ruleId: t.ruleId,
        deviceId: t.deviceId,
        metric: t.metric,
        severity: t.severity,
        maxSeverity: t.severity,
        startedAt: new Date(t.since ?? t.at).toISOString(),
        resolvedAt: null,
        value: t.value,
        threshold: t.threshold,
        mode: t.mode,
      };
      open.set(k, a);
      out.push(a);
      continue;
    }
    const a = open.get(k);
    if (!a) continue;
    if (t.kind === 'resolved') {
      a.resolvedAt = new Date(t.at).toISOString();
      open.delete(k);
    } else if (t.kind === 'escalated' || t.kind === 'deescalated') {
      // a stale transition reports the silence in seconds, not a reading: it changes neither level nor value
      a.severity = t.severity;
      if (severityRank(t.severity) > severityRank(a.maxSeverity)) a.maxSeverity = t.severity;
      a.value = t.value;
      a.threshold = t.threshold;
    }
  }
  return out;
}
