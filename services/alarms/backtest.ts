// A rule replayed over stored readings: what POST /api/v1/rules/:id/backtest answers and what the console's
// rule preview draws, from one place. The engine is the live engine's code. [docs/api.md Endpoints (backtest)]
import { RuleEngine } from '../../alerts/engine/rule-engine.ts';
import type { Rule, RuleScope } from '../../alerts/rules/rule-types.ts';
import { type Severity, severityRank, type Transition } from '../../alerts/types.ts';
import type { Db } from '../db/db.ts';
import type { Device, DeviceRegistry } from '../devices/device-registry.ts';
import { type PackedReadings, packedReadingsOf, unpackReadings } from '../devices/readings.ts';
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
  /** how many stored readings were replayed */
  readingCount: number;
  /** the readings of one station as live evaluation saw them (flagged ones left out, held ones at their release) */
  readingsOf: (deviceId: string) => EvaluatedReading[];
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

/** Stored readings fetched once for several backtests over the same period (the console's current and edited
 *  version of a rule): key = metric, fetched span and stations. */
export type BacktestReadingCache = Map<string, Promise<Map<string, PackedReadings[]>>>;

/**
 * Replays `rule` of municipality `org` over the stored readings of (from, to]; `to - from` at most 31 days.
 * Stations never influence each other in the engine (windows, timers and silence are per station) unless a level
 * needs another station's confirmation (`and`), so each is replayed on its own engine with the live engine's code, from one packed series per station: no array of
 * every reading of every station, no global sort. [docs/warning-logic.md Backtest]
 */
export async function backtestRule(
  deps: { db: Db; devices: DeviceRegistry },
  rule: Rule,
  org: string,
  from: number,
  to: number,
  cache?: BacktestReadingCache,
): Promise<BacktestResult> {
  const devices = devicesInScope(deps.devices, rule.scope, org);
  const longest = Math.max(0, ...rule.levels.map((l) => Math.max(l.windowMs, l.and?.windowMs ?? 0)));
  // at least an hour before `from`: the quality filter judges a level against the readings before it
  const since = from - Math.max(longest, 3_600_000);
  const ids = devices.map((d) => d.id);
  const packedOf = (metric: string | null, of: string[]) => {
    const k = `${metric ?? ''}|${since}|${to}|${of.join(',')}`;
    let load = cache?.get(k);
    if (!load) {
      // with each station's reading before the look-back, as the live engine keeps it: a rate window that
      // starts in a gap interpolates its start level from it [docs/warning-logic.md Backtest]
      load = packedReadingsOf(deps.db, of, metric, new Date(since), new Date(to), { previous: true }).then((rows) => {
        const by = new Map<string, PackedReadings[]>();
        for (const r of rows) by.set(r.deviceId, [...(by.get(r.deviceId) ?? []), r]);
        return by;
      });
      cache?.set(k, load);
    }
    return load;
  };
  const packed = await packedOf(rule.metric ?? null, ids);
  // the quality filter's hold-and-release replayed, so a held level step counts when live evaluation saw it
  const readingsOf = (id: string) => asEvaluatedLive(unpackReadings(packed.get(id) ?? []), () => deps.devices.get(id)?.params ?? {});
  const info = (d: Device) => ({ id: d.id, name: d.name, tags: d.tags, location: d.location });
  let readingCount = 0;
  let transitions: Transition[];
  if (rule.levels.some((l) => l.and)) {
    // a combined rule: a station's reading may confirm another's alarm, so all stations share one engine, and the
    // confirming stations' readings (a catchment's gauges) are replayed too, as live evaluation sees them
    const confirming = confirmingDevices(deps.devices, rule, devices);
    const theirs: EvaluatedReading[] = [];
    const shown = new Set(devices.map((d) => d.id));
    for (const [metric, of] of confirming) {
      if (metric === rule.metric) {
        // the rule's own metric: only stations not loaded already
        const rest = of.filter((d) => !shown.has(d.id));
        if (!rest.length) continue;
        const p = await packedOf(
          metric,
          rest.map((d) => d.id),
        );
        for (const d of rest) theirs.push(...asEvaluatedLive(unpackReadings(p.get(d.id) ?? []), () => d.params ?? {}));
        continue;
      }
      const p = await packedOf(
        metric,
        of.map((d) => d.id),
      );
      for (const d of of) theirs.push(...asEvaluatedLive(unpackReadings(p.get(d.id) ?? []), () => d.params ?? {}));
    }
    const all = [...devices.flatMap((d) => readingsOf(d.id)), ...theirs].sort((a, b) => a.at - b.at);
    readingCount = all.length;
    const e = new RuleEngine();
    const known = new Map<string, Device>();
    for (const d of [...devices, ...[...confirming.values()].flat()]) known.set(d.id, d);
    e.setDevices([...known.values()].map(info));
    transitions = e.backtest(rule, all, from, to);
  } else {
    const timed: { t: Transition; order: number }[] = [];
    devices.forEach((d, order) => {
      const readings = readingsOf(d.id);
      readingCount += readings.length;
      const e = new RuleEngine();
      e.setDevices([info(d)]);
      for (const t of e.backtest(rule, readings, from, to)) timed.push({ t, order });
    });
    // in time order, stations in scope order at the same instant (what one engine over all stations gives)
    timed.sort((a, b) => a.t.at - b.t.at || a.order - b.order);
    transitions = timed.map((x) => x.t);
  }
  return { devices, readingCount, readingsOf, transitions, alarms: groupAlarms(transitions) };
}

/**
 * The stations whose readings may confirm a combined rule's levels, per confirming metric: every station that
 * shares the `and` tag's value (the catchment) with a station in scope, as the live engine finds them.
 * [docs/warning-logic.md Combined rules]
 */
export function confirmingDevices(devices: DeviceRegistry, rule: Rule, inScope: Device[]): Map<string, Device[]> {
  const out = new Map<string, Device[]>();
  const all = devices.list();
  for (const l of rule.levels) {
    if (!l.and) continue;
    const { metric, tag } = l.and;
    const values = new Set(inScope.map((d) => d.tags[tag]).filter((v) => v !== undefined));
    const have = out.get(metric) ?? [];
    const ids = new Set(have.map((d) => d.id));
    for (const d of all) {
      if (!values.has(d.tags[tag]) || ids.has(d.id)) continue;
      ids.add(d.id);
      have.push(d);
    }
    out.set(metric, have);
  }
  return out;
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
