// The rule API body [docs/api.md Rules]: zod checks the shape, then semanticIssues() the meaning,
// and normalise() adds windowMs/forMs so the engine never parses strings on the hot path.
import type { z } from 'zod';
import { DWD_WARNING_METRICS } from '../dwd/dwd-warnings.ts';
import { METRIC_UNITS, SEVERITIES, severityRank } from '../types.ts';
import { DAY_MS, MINUTE_MS, tryParseDuration } from './duration.ts';
import { checkLevels } from './level-checks.ts';
import { expandPreset } from './presets.ts';
import { type ParsedBody, PresetSchema, RuleBodySchema } from './rule-body-schema.ts';
import type { ParseRuleResult, RuleDefinition, RuleIssue } from './rule-types.ts';

export { formatDuration, parseDuration } from './duration.ts';
export { expandPreset } from './presets.ts';
export { type PresetInput, PresetSchema, type RuleBody, RuleBodySchema, ScopeSchema } from './rule-body-schema.ts';
export * from './rule-types.ts';

const MIN_WINDOW_MS = MINUTE_MS;
const MAX_WINDOW_MS = 7 * DAY_MS;
const CANONICAL = Object.keys(METRIC_UNITS);

function metricIssue(b: ParsedBody): string | undefined {
  if (b.kind === 'offline') return b.metric === undefined ? undefined : 'offline rules watch every uplink of the device; remove metric';
  if (b.kind === 'dwd_warning')
    return b.metric === undefined || (DWD_WARNING_METRICS as readonly string[]).includes(b.metric)
      ? undefined
      : `dwd_warning reads one of ${DWD_WARNING_METRICS.join(', ')}, not ${JSON.stringify(b.metric)}`;
  if (b.metric === undefined) return `metric is required for kind ${b.kind}`;
  if (b.kind === 'accumulation' && b.metric !== 'rain_mm') return `accumulation sums rain; metric must be rain_mm, not ${JSON.stringify(b.metric)}`;
  if (!CANONICAL.includes(b.metric)) return `unknown metric ${JSON.stringify(b.metric)} for kind ${b.kind}; use one of ${CANONICAL.join(', ')}`;
  return undefined;
}

function windowIssue(kind: ParsedBody['kind'], window: string | undefined): string | undefined {
  if (kind === 'threshold' || kind === 'dwd_warning')
    return window === undefined ? undefined : `${kind} rules compare the latest value and take no window; remove it`;
  if (window === undefined) return `window is required for kind ${kind}`;
  const ms = tryParseDuration(window) ?? 0;
  if (ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS) return `window ${window} is outside the allowed 1m–7d`;
  return undefined;
}

type AndBody = NonNullable<ParsedBody['levels'][number]['and']>;

/** A confirming condition: a rain sum over a window, or the latest value of a known metric. */
function andIssues(kind: ParsedBody['kind'], a: AndBody): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (kind === 'offline' || kind === 'dwd_warning')
    out.push({ path: '', message: `and combines a measured or forecast value with a gauge; not for ${kind} rules` });
  if (a.kind === 'accumulation' && a.metric !== 'rain_mm')
    out.push({ path: 'metric', message: `accumulation sums rain; metric must be rain_mm, not ${JSON.stringify(a.metric)}` });
  else if (!CANONICAL.includes(a.metric))
    out.push({ path: 'metric', message: `unknown metric ${JSON.stringify(a.metric)}; use one of ${CANONICAL.join(', ')}` });
  const w = windowIssue(a.kind, a.window);
  if (w) out.push({ path: 'window', message: w });
  return out;
}

function semanticIssues(b: ParsedBody): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const add = (path: string, message: string | undefined) => message && issues.push({ path, message });
  add('metric', metricIssue(b));
  if (b.intensityCap !== undefined && b.kind !== 'accumulation')
    add('intensityCap', `intensityCap caps rain sums; it only applies to kind accumulation, not ${b.kind}`);
  b.levels.forEach((l, i) => {
    add(`levels.${i}.window`, windowIssue(b.kind, l.window));
    if (l.and) for (const x of andIssues(b.kind, l.and)) add(`levels.${i}.and${x.path ? `.${x.path}` : ''}`, x.message);
    if (l.threshold === undefined && b.kind !== 'offline') add(`levels.${i}.threshold`, 'threshold is required');
    // [DWD Warnstufen 1–4]
    else if (b.kind === 'dwd_warning' && !(Number.isInteger(l.threshold) && (l.threshold ?? 0) >= 1 && (l.threshold ?? 0) <= 4))
      add(`levels.${i}.threshold`, 'a dwd_warning threshold is a DWD level: 1, 2, 3 or 4');
  });
  for (const [path, s] of [
    ['for', b.for],
    ['clear.for', b.clear.for],
  ] as const)
    if ((tryParseDuration(s) ?? 0) > MAX_WINDOW_MS) add(path, `${s} is longer than the allowed 7d`);
  if (issues.length > 0) return issues;
  const levels = normaliseLevels(b);
  for (const li of checkLevels(b.kind, b.comparison, levels)) {
    const original = b.levels.indexOf(levels[li.index].source);
    add(`levels.${original}.${li.field}`, li.message);
  }
  return issues;
}

function normaliseLevels(b: ParsedBody) {
  return b.levels.map((l) => {
    const windowMs = l.window === undefined ? 0 : (tryParseDuration(l.window) ?? 0);
    // Offline compares silence with the window; the transition reports both in seconds.
    const threshold = b.kind === 'offline' ? windowMs / 1000 : (l.threshold ?? 0);
    return {
      severity: l.severity,
      ...(l.window !== undefined && { window: l.window }),
      windowMs,
      threshold,
      ...(l.strict && b.kind !== 'offline' && { strict: true }),
      ...(l.and && {
        and: {
          metric: l.and.metric,
          kind: l.and.kind,
          ...(l.and.window !== undefined && { window: l.and.window }),
          windowMs: l.and.window === undefined ? 0 : (tryParseDuration(l.and.window) ?? 0),
          threshold: l.and.threshold,
          tag: l.and.tag,
        },
      }),
      source: l,
    };
  });
}

function normalise(b: ParsedBody): RuleDefinition {
  const levels = normaliseLevels(b)
    .map(({ source: _source, ...l }) => l)
    .sort((x, y) => severityRank(x.severity) - severityRank(y.severity) || x.windowMs - y.windowMs);
  return {
    name: b.name,
    kind: b.kind,
    ...(b.metric !== undefined && { metric: b.metric }),
    ...(b.kind === 'dwd_warning' && b.metric === undefined && { metric: 'dwd_warning_level' }),
    comparison: b.comparison,
    scope: b.scope,
    levels,
    for: b.for,
    forMs: tryParseDuration(b.for) ?? 0,
    clear: { hysteresis: b.clear.hysteresis, for: b.clear.for, forMs: tryParseDuration(b.clear.for) ?? 0 },
    mode: b.mode,
    enabled: b.enabled,
    ...(b.expectedInterval !== undefined && { expectedInterval: b.expectedInterval, expectedIntervalMs: tryParseDuration(b.expectedInterval) ?? 0 }),
    ...(b.intensityCap !== undefined && { intensityCap: b.intensityCap }),
  };
}

const toIssues = (e: z.ZodError): RuleIssue[] => e.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));

function parsePresetBody(body: unknown): ParseRuleResult {
  const p = PresetSchema.safeParse(body);
  if (!p.success) return { ok: false, issues: toIssues(p.error) };
  const r = parseRuleInput(expandPreset(p.data));
  return r.ok ? { ok: true, rule: { ...r.rule, preset: p.data.preset } } : r;
}

const DWD_EVENTS = { STARKREGEN: 'dwd_starkregen_level', DAUERREGEN: 'dwd_dauerregen_level' } as const;

/**
 * The dwd_warning shorthand `{"kind":"dwd_warning","minLevel":3,"events":["STARKREGEN","DAUERREGEN"]?}`
 *: one level per DWD level from minLevel up (1 minor … 4 extreme, so the alarm escalates with
 * the warning), on the municipality's DWD warning device; without events (or with both) every rain warning counts.
 */
function expandDwdShorthand(body: Record<string, unknown>): { body: Record<string, unknown> } | { issues: RuleIssue[] } {
  const { minLevel, events, ...rest } = body;
  const issues: RuleIssue[] = [];
  if (!(typeof minLevel === 'number' && Number.isInteger(minLevel) && minLevel >= 1 && minLevel <= 4))
    issues.push({ path: 'minLevel', message: 'minLevel is a DWD level: 1, 2, 3 or 4' });
  const names = Object.keys(DWD_EVENTS);
  if (events !== undefined && !(Array.isArray(events) && events.length > 0 && events.every((e) => names.includes(e as string))))
    issues.push({ path: 'events', message: `events is a non-empty list of ${names.join(', ')}` });
  for (const k of ['levels', 'metric'] as const) if (rest[k] !== undefined) issues.push({ path: k, message: `give either minLevel/events or ${k}, not both` });
  if (issues.length) return { issues };
  const picked = [...new Set((events as (keyof typeof DWD_EVENTS)[] | undefined) ?? names)];
  const metric = picked.length === 1 ? DWD_EVENTS[picked[0] as keyof typeof DWD_EVENTS] : 'dwd_warning_level';
  const from = minLevel as number;
  return {
    body: {
      name: `DWD-Warnung ${picked.join('/')} ab Stufe ${from}`,
      scope: { tags: { source: 'dwd-warnings' } },
      ...rest,
      metric,
      levels: [1, 2, 3, 4].filter((l) => l >= from).map((l) => ({ severity: SEVERITIES[l - 1], threshold: l })),
    },
  };
}

/** Validates a rule or preset body and returns the normalised rule, or every issue found. [docs/api.md Rules] */
export function parseRuleInput(body: unknown): ParseRuleResult {
  if (typeof body === 'object' && body !== null && 'preset' in body) return parsePresetBody(body);
  if (typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'dwd_warning' && ('minLevel' in body || 'events' in body)) {
    const x = expandDwdShorthand(body as Record<string, unknown>);
    if ('issues' in x) return { ok: false, issues: x.issues };
    body = x.body;
  }
  const parsed = RuleBodySchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error) };
  const issues = semanticIssues(parsed.data);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, rule: normalise(parsed.data) };
}
