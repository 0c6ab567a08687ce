// What a restarted rule engine is given before its first reading: the stored readings its windows need,
// the alarms still open, and every device's last uplink. One function over a small source interface, so
// the property test (test/property) restarts the engine through exactly the path the app uses.
import type { LastSeenRef, OpenAlarmRef, RuleEngine } from '../../alerts/engine/rule-engine.ts';
import { type Rule, ruleLookbackMs } from '../../alerts/rules/rule-types.ts';
import { EVALUATED_SQL, type Reading, type Severity } from '../../alerts/types.ts';
import type { Queryable } from '../db/db.ts';

export interface EngineStateSource {
  /** stored readings (any quality) of these metrics with time > since, oldest first */
  readingsSince(since: number, metrics: string[]): Promise<Reading[]>;
  /** per device, the newest good reading of each of these metrics at or before `before` */
  lastValuesBefore(before: number, metrics: string[]): Promise<Reading[]>;
  /** alarms still open: neither resolved (all-clear) nor closed (configuration changed); `staleAt`: the time of
   *  the alarm's latest `stale` event, if it has one */
  openAlarms(): Promise<(OpenAlarmRef & { staleAt?: number })[]>;
  /** each device's newest stored reading times after `since` (the newest 16, for its cadence) */
  lastSeen(since: number): Promise<LastSeenRef[]>;
}

/** Threshold rules look back 1 h at most; the extra minute covers the gap between query and first tick. */
const MIN_LOOKBACK_MS = 3_600_000;
const SLACK_MS = 60_000;
const LAST_SEEN_LOOKBACK_MS = 8 * 86_400_000;

export async function hydrateEngine(
  engine: RuleEngine,
  rules: Rule[],
  source: EngineStateSource,
  now: number,
): Promise<{ readings: number; openAlarms: number }> {
  // a combined level's confirming condition reads another metric (a catchment's gauges) [docs/warning-logic.md]
  const andMetrics = rules.flatMap((r) => r.levels.map((l) => l.and?.metric));
  const metrics = [...new Set([...rules.map((r) => r.metric), ...andMetrics].filter((m): m is string => !!m))];
  const longest = Math.max(MIN_LOOKBACK_MS, ...rules.map(ruleLookbackMs));
  const since = now - longest - SLACK_MS;
  const readings = metrics.length ? await source.readingsSince(since, metrics) : [];
  // A threshold rule compares the latest value however old it is (a silent gauge keeps its level; silence is
  // the offline rule's job), so a gauge silent for longer than the look-back must not come back as "no value"
  // and resolve its open alarm after a restart.
  // A rate rule measures a rise from the level at its window's start, interpolated from the reading before it.
  const latest = [...new Set(rules.filter((r) => (r.kind === 'threshold' || r.kind === 'rate') && r.metric).map((r) => r.metric as string))];
  if (latest.length) readings.push(...(await source.lastValuesBefore(since, latest)));
  const open = await source.openAlarms();
  const seen = await source.lastSeen(now - LAST_SEEN_LOOKBACK_MS);
  // a reading stamped ahead of now (a device clock running fast) counts from now, as it did when it arrived
  const upToNow = <T extends { time: number }>(r: T): T => (r.time > now ? { ...r, time: now } : r);
  // held already (it said `stale` once) while its device sent nothing stamped after that: not a second
  // SENSOR STILL for the same silence, and a new one for a new silence after the gauge came back
  const newest = new Map<string, number>();
  for (const x of seen) newest.set(x.deviceId, Math.max(x.time, newest.get(x.deviceId) ?? x.time));
  const held = open.map(({ staleAt, ...o }) => ({
    ...o,
    ...(staleAt !== undefined && (newest.get(o.deviceId) ?? Number.NEGATIVE_INFINITY) < staleAt && { stale: true }),
  }));
  engine.hydrate(readings.map(upToNow), held, seen.map(upToNow));
  return { readings: readings.length, openAlarms: open.length };
}

export function pgEngineStateSource(db: Queryable): EngineStateSource {
  return {
    async readingsSince(since, metrics) {
      const r = await db.query<{ time: Date; device_id: string; metric: string; value: number; quality: number }>(
        'select time, device_id, metric, value, quality from readings where time > $1 and metric = any($2::text[]) order by time',
        [new Date(since), metrics],
      );
      return r.rows.map((x) => ({ deviceId: x.device_id, metric: x.metric, time: new Date(x.time).getTime(), value: x.value, quality: x.quality }));
    },
    async lastValuesBefore(before, metrics) {
      // one index probe per (device, metric) on the (device_id, metric, time) key
      const r = await db.query<{ time: Date; device_id: string; metric: string; value: number }>(
        `select x.time, d.id as device_id, m.metric, x.value from devices d cross join unnest($2::text[]) as m(metric)
         cross join lateral (select time, value from readings where device_id = d.id and metric = m.metric and time <= $1 and ${EVALUATED_SQL}
                             order by time desc limit 1) x`,
        [new Date(before), metrics],
      );
      return r.rows.map((x) => ({ deviceId: x.device_id, metric: x.metric, time: new Date(x.time).getTime(), value: x.value, quality: 0 }));
    },
    async openAlarms() {
      const r = await db.query<{ rule_id: string; device_id: string; severity: string; window_label: string | null; stale_at: Date | null }>(
        `select rule_id, device_id, severity, window_label,
                (select e.at from alarm_events e where e.alarm_id = a.id and e.kind = 'stale' order by e.id desc limit 1) as stale_at
         from alarms a where state not in ('resolved', 'closed')`,
      );
      return r.rows.map((o) => ({
        ruleId: o.rule_id,
        deviceId: o.device_id,
        severity: o.severity as Severity,
        window: o.window_label,
        ...(o.stale_at && { staleAt: new Date(o.stale_at).getTime() }),
      }));
    },
    async lastSeen(since) {
      // the newest 16 uplink times per device: the last one, and the cadence the stale hold is judged by
      const r = await db.query<{ device_id: string; t: Date }>(
        `select device_id, t from (select device_id, t, row_number() over (partition by device_id order by t desc) as k
           from (select distinct device_id, time as t from readings where time > $1) d) x where k <= 16`,
        [new Date(since)],
      );
      return r.rows.map((s) => ({ deviceId: s.device_id, time: new Date(s.t).getTime() }));
    },
  };
}
