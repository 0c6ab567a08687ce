// Random warning scenarios for the engine-vs-oracle property: two rain gauges and a level gauge reporting
// at their own cadence, with outages, late and re-delivered uplinks, restarts of the service and rule edits
// at random points, and a random set of rules of every kind. Everything is generated as plain numbers and
// built into a time-ordered event list, so a failure shrinks to a short, readable story.
import fc from 'fast-check';
import { parseRuleInput, type Rule } from '../../alerts/rules/rule-schema.ts';
import { type DeviceInfo, type Reading, SEVERITIES } from '../../alerts/types.ts';

export const MIN = 60_000;
export const T0 = Date.UTC(2024, 5, 12, 14, 0, 0);

export type Event =
  | { kind: 'reading'; at: number; r: Reading }
  /** a tipping-bucket uplink: the cumulative count the device sends, and the rain it stands for as far as
   *  anyone can know (tips since the previous delivered count; after a reboot, tips since the reboot;
   *  null for the very first count, which only sets the baseline) */
  | { kind: 'counter'; at: number; deviceId: string; time: number; count: number; rainMm: number | null }
  | { kind: 'tick'; at: number }
  | { kind: 'restart'; at: number }
  | { kind: 'rules'; at: number; rules: Rule[] };

export interface Scenario {
  devices: DeviceInfo[];
  rules: Rule[];
  events: Event[];
}

/** Generator dimensions; each can be switched off where it waits for a fix on main. */
export interface Dimensions {
  late: boolean;
  duplicates: boolean;
  gaps: boolean;
  restarts: boolean;
  ruleEdits: boolean;
  /** stamps up to 9 min ahead of the receive time (inside the ingest tolerance) */
  futureStamps: boolean;
  /** rain-1 may be a tipping bucket sending cumulative counts, rebooting once (counter reset) */
  counters: boolean;
  /** open alarms of a silent device hold (`stale`); off = every rule expects its device only once a week */
  staleHold: boolean;
}

export const DEVICES: DeviceInfo[] = [
  { id: 'rain-1', name: 'Regenschreiber 1', tags: { site: 'wieseck', gauge: 'rain' } },
  { id: 'rain-2', name: 'Regenschreiber 2', tags: { site: 'wieseck', gauge: 'rain' } },
  { id: 'level-1', name: 'Pegel 1', tags: { site: 'wieseck', gauge: 'level' } },
];

// ---- rules ----

const sevs = fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }).map((a) => a.sort().map((i) => SEVERITIES[i]));
const dur = (choices: string[]) => fc.constantFrom(...choices);
const timing = fc.record({ for: dur(['0m', '0m', '2m', '5m', '10m']), clearFor: dur(['0m', '5m', '10m', '15m']) });

/** Thresholds rise with severity, so every generated rule is valid; `steps` are the gaps between levels. */
const rising = (first: fc.Arbitrary<number>, step: fc.Arbitrary<number>) =>
  fc.tuple(first, fc.array(step, { minLength: 2, maxLength: 2 })).map(([a, [b, c]]) => [a, a + b, a + b + c]);

const accumulation = fc
  .record({
    sevs,
    windows: fc.array(dur(['10m', '30m', '1h', '2h']), { minLength: 3, maxLength: 3 }),
    th: rising(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 15 })),
    hyst: fc.constantFrom(0, 0, 1, 2.4),
    timing,
    // Dauerregen-style: rain faster than this (mm/h) counts only at this rate
    cap: fc.option(fc.constantFrom(3, 12, 40), { nil: undefined, freq: 2 }),
  })
  .map((g) => ({
    ...(g.cap !== undefined && { intensityCap: g.cap }),
    name: 'Regensumme',
    kind: 'accumulation',
    metric: 'rain_mm',
    scope: { tags: { gauge: 'rain' } },
    levels: g.sevs.map((severity, i) => ({ severity, window: g.windows[i], threshold: g.th[i] })),
    for: g.timing.for,
    clear: { hysteresis: g.hyst, for: g.timing.clearFor },
  }));

const starkregen = fc.record({ timing, shadow: fc.boolean() }).map((g) => ({
  preset: 'dwd-starkregen',
  scope: { tags: { gauge: 'rain' } },
  for: g.timing.for,
  clear: { for: g.timing.clearFor },
  ...(g.shadow && { mode: 'shadow' }),
}));

const threshold = fc
  .record({
    sevs,
    th: rising(fc.integer({ min: 160, max: 240 }), fc.integer({ min: 5, max: 40 })),
    hyst: fc.constantFrom(0, 2, 5, 10),
    timing,
    below: fc.boolean(),
  })
  .map((g) => ({
    name: g.below ? 'Niedrigwasser' : 'Pegel',
    kind: 'threshold',
    metric: 'level_cm',
    comparison: g.below ? 'below' : 'above',
    scope: { deviceIds: ['level-1'] },
    // below: a higher severity needs a lower level
    levels: g.sevs.map((severity, i) => ({ severity, threshold: g.below ? 400 - g.th[i] : g.th[i] })),
    for: g.timing.for,
    clear: { hysteresis: g.hyst, for: g.timing.clearFor },
  }));

const meldestufen = fc.record({ th: rising(fc.integer({ min: 170, max: 230 }), fc.integer({ min: 5, max: 30 })), timing }).map((g) => ({
  preset: 'pegel-meldestufen',
  scope: { deviceIds: ['level-1'] },
  thresholds: g.th,
  for: g.timing.for,
  clear: { for: g.timing.clearFor },
}));

const rate = fc
  .record({
    sevs,
    windows: fc.array(dur(['10m', '15m', '30m', '1h']), { minLength: 3, maxLength: 3 }),
    th: rising(fc.integer({ min: 5, max: 30 }), fc.integer({ min: 2, max: 20 })),
    hyst: fc.constantFrom(0, 2),
    timing,
  })
  .map((g) => ({
    name: 'Anstieg',
    kind: 'rate',
    metric: 'level_cm',
    scope: { deviceIds: ['level-1'] },
    levels: g.sevs.map((severity, i) => ({ severity, window: g.windows[i], threshold: g.th[i] })),
    for: g.timing.for,
    clear: { hysteresis: g.hyst, for: g.timing.clearFor },
  }));

const offline = fc
  .record({ sevs, first: fc.integer({ min: 15, max: 60 }), step: fc.integer({ min: 5, max: 60 }), clearFor: dur(['0m', '0m', '5m']) })
  .map((g) => ({
    name: 'Funkstille',
    kind: 'offline',
    scope: { tags: { site: 'wieseck' } },
    levels: g.sevs.map((severity, i) => ({ severity, window: `${g.first + i * g.step}m` })),
    clear: { for: g.clearFor },
  }));

function parseRule(body: unknown, id: string): Rule {
  const r = parseRuleInput(body);
  if (!r.ok) throw new Error(`generated an invalid rule: ${JSON.stringify(r.issues)} ${JSON.stringify(body)}`);
  return { ...r.rule, id };
}

type Body = Record<string, unknown>;
const some = (a: fc.Arbitrary<Body>, freq?: number) => fc.option(a, { nil: undefined, ...(freq && { freq }) });

const ruleBodies = fc
  .record({
    acc: some(fc.oneof(accumulation, starkregen)),
    acc2: some(accumulation, 3),
    thr: some(fc.oneof(threshold, meldestufen)),
    rate: some(rate),
    off: some(offline),
  })
  .map((r) => Object.entries(r).filter((e): e is [string, Body] => e[1] !== undefined))
  .filter((r) => r.length > 0);

/** A rule edit: every threshold scaled (order kept), or `for`/`clear.for` changed. */
function edited(body: Body, factor: number, forDur: string): Body {
  const scale = (v: number) => Math.round(v * factor * 10) / 10;
  if (body.preset === 'pegel-meldestufen') return { ...body, thresholds: (body.thresholds as number[]).map(scale), for: forDur };
  if (body.preset) return { ...body, for: forDur };
  const levels = (body.levels as { threshold?: number; window?: string }[]).map((l) =>
    l.threshold === undefined ? l : { ...l, threshold: scale(l.threshold) },
  );
  return { ...body, levels, for: forDur };
}

// ---- readings ----

const cadence = fc.constantFrom(1, 2, 5, 5, 10); // minutes between uplinks
/** tips of 0.2 mm per uplink: mostly dry or light, sometimes a cloudburst block */
const tips = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }) },
  { weight: 2, arbitrary: fc.integer({ min: 7, max: 45 }) },
);
/** level changes in cm per uplink: a random walk that can climb through the stage lines */
const levelStep = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -4, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: -15, max: 25 }) });

/** what happens to one uplink on its way in */
const delivery = fc.oneof(
  { weight: 12, arbitrary: fc.record({ late: fc.constant(0), dup: fc.constant(-1) }) },
  { weight: 2, arbitrary: fc.record({ late: fc.integer({ min: 1, max: 30 * 60 }), dup: fc.constant(-1) }) },
  { weight: 1, arbitrary: fc.record({ late: fc.constant(0), dup: fc.integer({ min: 0, max: 30 * 60 }) }) },
  { weight: 1, arbitrary: fc.record({ late: fc.integer({ min: -9 * 60, max: -1 }), dup: fc.constant(-1) }) }, // stamped ahead
);

const series = <T>(value: fc.Arbitrary<T>) =>
  fc.record({
    cadence,
    offsetS: fc.integer({ min: 0, max: 59 }),
    values: fc.array(value, { minLength: 20, maxLength: 90 }),
    deliveries: fc.array(delivery, { minLength: 90, maxLength: 90 }),
    gaps: fc.array(fc.record({ at: fc.integer({ min: 0, max: 89 }), len: fc.integer({ min: 2, max: 40 }) }), { maxLength: 2 }),
  });

export const scenarioInput = fc.record({
  rules: ruleBodies,
  rain1: series(tips),
  /** rain-1 as a tipping bucket: its counter before the first uplink, and the uplink it reboots before */
  counter: fc.option(
    fc.oneof(
      fc.record({ base: fc.integer({ min: 500, max: 50_000 }), resetAt: fc.option(fc.nat({ max: 89 }), { nil: undefined }) }),
      fc.record({ base: fc.integer({ min: 65_000, max: 65_535 }) }), // the 16-bit register wraps during the storm
    ),
    { nil: undefined },
  ),
  rain2: fc.option(series(tips), { nil: undefined }),
  level: fc.record({ start: fc.integer({ min: 120, max: 220 }), s: series(levelStep) }),
  restarts: fc.array(fc.integer({ min: 1, max: 600 }), { maxLength: 3 }),
  edits: fc.array(
    fc.record({ atMin: fc.integer({ min: 1, max: 600 }), which: fc.nat(), factor: fc.constantFrom(0.5, 0.8, 1.25, 1.6), for: dur(['0m', '5m']) }),
    { maxLength: 2 },
  ),
});
export type ScenarioInput = typeof scenarioInput extends fc.Arbitrary<infer T> ? T : never;

type Series = ScenarioInput['rain1'];

function uplinks(deviceId: string, metric: string, s: Series, value: (i: number) => number, dims: Dimensions): Event[] {
  const out: Event[] = [];
  const dropped = (i: number) => dims.gaps && s.gaps.some((g) => i >= g.at && i < g.at + g.len);
  s.values.forEach((_, i) => {
    if (dropped(i)) return;
    const time = T0 + (i + 1) * s.cadence * MIN + s.offsetS * 1000;
    const r: Reading = { deviceId, metric, time, value: value(i), quality: 0 };
    const d = s.deliveries[i];
    // late > 0: arrives after its stamp; late < 0: the device clock runs ahead, so it arrives before its stamp
    const late = (d.late > 0 && dims.late) || (d.late < 0 && dims.futureStamps) ? d.late * 1000 : 0;
    out.push({ kind: 'reading', at: time + late, r });
    if (dims.duplicates && d.dup >= 0) out.push({ kind: 'reading', at: time + late + d.dup * 1000 + 1, r: { ...r } });
  });
  return out;
}

/**
 * A tipping bucket's uplinks. Lost uplinks' tips arrive with the next count; a reboot restarts the count at
 * 0; a late or repeated uplink carries no new tips (its tips come with the newer count already read).
 */
function counterFrames(s: Series, c: { base: number; resetAt?: number }, dims: Dimensions): Event[] {
  const frames: { i: number; at: number; time: number; count: number }[] = [];
  let count = c.base;
  s.values.forEach((tipsNow, i) => {
    if (i === c.resetAt) count = 0;
    count = (count + Math.min(tipsNow, 6 * s.cadence)) % 65_536; // ≤ 1.2 mm/min (72 mm/h); a 16-bit register
    if (dims.gaps && s.gaps.some((g) => i >= g.at && i < g.at + g.len)) return;
    const time = T0 + (i + 1) * s.cadence * MIN + s.offsetS * 1000;
    const d = s.deliveries[i];
    const at = time + (dims.late && d.late > 0 ? d.late * 1000 : 0);
    frames.push({ i, at, time, count });
    if (dims.duplicates && d.dup >= 0) frames.push({ i, at: at + d.dup * 1000 + 1, time, count });
  });
  // the rain each count stands for, in the order the counts arrive
  let known: { i: number; count: number } | undefined;
  return frames
    .sort((a, b) => a.at - b.at)
    .map((f): Event => {
      let rainMm: number | null = null;
      if (known === undefined || f.i > known.i) {
        const rebooted = known !== undefined && c.resetAt !== undefined && known.i < c.resetAt && c.resetAt <= f.i;
        if (known !== undefined) rainMm = Math.round((rebooted ? f.count : (f.count - known.count + 65_536) % 65_536) * 0.2 * 1e6) / 1e6;
        known = { i: f.i, count: f.count };
      }
      return { kind: 'counter', at: f.at, deviceId: 'rain-1', time: f.time, count: f.count, rainMm };
    });
}

export function buildScenario(input: ScenarioInput, dims: Dimensions): Scenario {
  const bodies = input.rules;
  const parse = (body: unknown, id: string) => parseRule(dims.staleHold ? body : { ...(body as object), expectedInterval: '7d' }, id);
  const rules = bodies.map(([id, body]) => parse(body, id));
  const events: Event[] = [];
  const rain = (s: Series) => (i: number) => Math.round(s.values[i] * 0.2 * 10) / 10;
  if (dims.counters && input.counter) events.push(...counterFrames(input.rain1, input.counter, dims));
  else events.push(...uplinks('rain-1', 'rain_mm', input.rain1, rain(input.rain1), dims));
  if (input.rain2) events.push(...uplinks('rain-2', 'rain_mm', input.rain2, rain(input.rain2), dims));
  const lv = input.level;
  const levels: number[] = [];
  for (const step of lv.s.values) levels.push((levels.at(-1) ?? lv.start) + step);
  events.push(...uplinks('level-1', 'level_cm', lv.s, (i) => levels[i], dims));
  const end = Math.max(...events.map((e) => e.at)) + 3 * 60 * MIN;
  for (let t = T0; t <= end; t += MIN) events.push({ kind: 'tick', at: t });
  if (dims.restarts) for (const m of input.restarts) events.push({ kind: 'restart', at: T0 + m * MIN + 30_000 });
  if (dims.ruleEdits) {
    let current = bodies;
    for (const e of [...input.edits].sort((a, b) => a.atMin - b.atMin)) {
      const i = e.which % current.length;
      current = current.map(([id, b], j) => [id, j === i ? edited(b, e.factor, e.for) : b]);
      events.push({ kind: 'rules', at: T0 + e.atMin * MIN + 20_000, rules: current.map(([id, b]) => parse(b, id)) });
    }
  }
  // a reading and a tick at the same instant: the reading first (as the replay helper does)
  const order = { reading: 0, counter: 0, rules: 1, restart: 2, tick: 3 };
  events.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);
  return { devices: DEVICES, rules, events };
}
