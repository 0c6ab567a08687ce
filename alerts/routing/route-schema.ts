// Routes: who is told about which alarms, how often, and whom to escalate to. [docs/formats.md]
import { z } from 'zod';
import { targetSchema } from '../channels/types.ts';
import { tryParseDuration } from '../rules/duration.ts';
import { SEVERITIES, type Severity, severityRank } from '../types.ts';

// `closed`: the alarm ended by a change of configuration; a route that lists `resolved` hears it too.
// `stale`: the device of an open alarm went silent and the alarm holds; a route that lists `firing` hears it too.
export const NOTIFY_ON = ['firing', 'escalated', 'deescalated', 'acknowledged', 'resolved', 'closed', 'stale'] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

const duration = (min: string) =>
  z.string().refine((s) => {
    const ms = tryParseDuration(s);
    return ms !== undefined && ms >= (tryParseDuration(min) ?? 0) && ms <= 7 * 86_400_000;
  }, `must be a duration like 30m or 2h, between ${min} and 7d`);

// Storm grouping (Alertmanager's group_by/group_wait/group_interval): the first notifications of alarms of one
// group go out together after `groupWait`, later ones are collected for `groupInterval`. Without `groupBy` a
// route notifies exactly as before. [docs/api.md Routes] [issue 16]
export const GROUP_BY_RE = /^(rule|org|tag:[^\s:]{1,100})$/;
export const GROUPING_FIELDS = {
  groupBy: z.array(z.string().regex(GROUP_BY_RE, 'must be "rule", "org" (the municipality) or "tag:<name>", e.g. "tag:catchment"')).min(1).max(5).optional(),
  groupWait: z
    .string()
    .refine((s) => {
      const ms = tryParseDuration(s);
      return ms !== undefined && ms <= 3_600_000;
    }, 'must be a duration like 0s, 30s or 2m, at most 1h')
    .optional(),
  groupInterval: duration('30s').optional(),
};

export const routeSchema = z.strictObject({
  name: z.string().min(1).max(200),
  match: z
    .strictObject({
      minSeverity: z.enum(SEVERITIES).default('minor'),
      deviceIds: z.array(z.string()).optional(),
      tags: z.record(z.string(), z.string()).optional(),
      ruleIds: z.array(z.string()).optional(),
    })
    .default({ minSeverity: 'minor' }),
  targets: z.array(targetSchema).min(1).max(50),
  notifyOn: z.array(z.enum(NOTIFY_ON)).min(1).default(['firing', 'escalated', 'deescalated', 'acknowledged', 'resolved', 'closed']),
  repeatEvery: duration('1m').optional(),
  escalate: z.strictObject({ after: duration('1m'), targets: z.array(targetSchema).min(1).max(50) }).optional(),
  enabled: z.boolean().default(true),
  // storm grouping (issue 16): its own block, see GROUPING_FIELDS
  ...GROUPING_FIELDS,
});
export type RouteBody = z.output<typeof routeSchema>;
export type Route = RouteBody & { id: string };

export interface RoutableAlarm {
  ruleId: string;
  deviceId: string;
  severity: Severity;
  mode: 'active' | 'shadow';
}

/** Does the route care about this alarm at all (severity aside from the all-clear rule)? */
export function routeMatches(r: Route, a: RoutableAlarm, deviceTags: Record<string, string>, alreadyNotified: boolean): boolean {
  if (!r.enabled || a.mode === 'shadow') return false;
  const m = r.match;
  if (m.deviceIds && !m.deviceIds.includes(a.deviceId)) return false;
  if (m.ruleIds && !m.ruleIds.includes(a.ruleId)) return false;
  if (m.tags && !Object.entries(m.tags).every(([k, v]) => deviceTags[k] === v)) return false;
  // Whoever was told about an alarm also hears how it ends, even after it fell below their severity.
  return alreadyNotified || severityRank(a.severity) >= severityRank(m.minSeverity);
}

export interface SilenceMatch {
  deviceIds?: string[];
  ruleIds?: string[];
  tags?: Record<string, string>;
}

export function silenceMatches(s: SilenceMatch, a: { deviceId: string; ruleId: string }, deviceTags: Record<string, string>): boolean {
  if (s.deviceIds && !s.deviceIds.includes(a.deviceId)) return false;
  if (s.ruleIds && !s.ruleIds.includes(a.ruleId)) return false;
  if (s.tags && !Object.entries(s.tags).every(([k, v]) => deviceTags[k] === v)) return false;
  return !!(s.deviceIds || s.ruleIds || s.tags);
}

/** Default `groupWait` when a route groups and names none. */
export const DEFAULT_GROUP_WAIT_MS = 30_000;
/** Default `groupInterval` when a route groups and names none. */
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;

export interface RouteGroup {
  /** stable key of the group within its route, e.g. "tag:catchment=lahn" */
  key: string;
  /** what a message names the group by, e.g. "Lahn" */
  label: string;
  waitMs: number;
  intervalMs: number;
}

/**
 * The group of an alarm on a grouping route, or undefined when the route does not group. `tags`: the device's
 * tags with the reserved municipality tag (`orgTag`).
 */
export function groupOf(
  r: Pick<RouteBody, 'groupBy' | 'groupWait' | 'groupInterval'>,
  a: { ruleId: string; ruleName?: string },
  tags: Record<string, string>,
  orgTag: string,
): RouteGroup | undefined {
  if (!r.groupBy?.length) return undefined;
  const keys: string[] = [];
  const labels: string[] = [];
  for (const g of r.groupBy) {
    if (g === 'rule') {
      keys.push(`rule=${a.ruleId}`);
      labels.push(a.ruleName || a.ruleId);
    } else if (g === 'org') {
      keys.push(`org=${tags[orgTag] ?? ''}`);
      labels.push(tags[orgTag] ?? '');
    } else {
      const name = g.slice('tag:'.length);
      keys.push(`${g}=${tags[name] ?? ''}`);
      labels.push(tags[name] ?? `ohne ${name}`);
    }
  }
  return {
    key: keys.join('|'),
    label: labels.filter(Boolean).join(', '),
    waitMs: r.groupWait !== undefined ? (tryParseDuration(r.groupWait) ?? DEFAULT_GROUP_WAIT_MS) : DEFAULT_GROUP_WAIT_MS,
    intervalMs: r.groupInterval !== undefined ? (tryParseDuration(r.groupInterval) ?? DEFAULT_GROUP_INTERVAL_MS) : DEFAULT_GROUP_INTERVAL_MS,
  };
}
