// Scenario helpers for engine tests: build rules from API bodies, replay readings with clock ticks.

import { parseRuleInput, type Rule } from '../rules/rule-schema.ts';
import type { DeviceInfo, Reading, Transition } from '../types.ts';
import { RuleEngine } from './rule-engine.ts';

export const T0 = Date.UTC(2024, 5, 12, 14, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export function rule(body: unknown, id = 'r1'): Rule {
  const r = parseRuleInput(body);
  if (!r.ok) throw new Error(`bad rule in test: ${JSON.stringify(r.issues)}`);
  return { ...r.rule, id };
}

export const device = (id: string, tags: Record<string, string> = {}): DeviceInfo => ({ id, name: id, tags });

export function reading(deviceId: string, metric: string, time: number, value: number, quality = 0): Reading {
  return { deviceId, metric, time, value, quality };
}

/** One reading per block, each stamped at the end of its block (rain that fell during it). */
export function blocks(deviceId: string, metric: string, values: number[], stepMs: number, start = T0): Reading[] {
  return values.map((v, i) => reading(deviceId, metric, start + (i + 1) * stepMs, v));
}

/** A working gauge keeps reporting when the rain stops: 0 mm (or the last level) every `stepMs` after the
 *  last reading until `until`, so an all-clear comes from data, never from silence. */
export function dryTail(readings: Reading[], stepMs: number, until: number, value = 0): Reading[] {
  const last = readings.at(-1);
  if (!last) return readings;
  const tail: Reading[] = [];
  for (let t = last.time + stepMs; t <= until; t += stepMs) tail.push(reading(last.deviceId, last.metric, t, value));
  return [...readings, ...tail];
}

export function engineWith(rules: Rule[], devices: DeviceInfo[] = [device('g1')]): RuleEngine {
  const e = new RuleEngine();
  e.setRules(rules);
  e.setDevices(devices);
  return e;
}

/** Live-style replay: readings as they arrive (now = reading time) and a tick on every whole minute
 *  from `from` to `to`; a tick at the same instant as a reading comes after it. */
export function replay(e: RuleEngine, readings: Reading[], from: number, to: number, tickMs = MIN): Transition[] {
  type Ev = { at: number; order: number; r?: Reading };
  const events: Ev[] = readings.map((r) => ({ at: r.time, order: 0, r }));
  for (let t = Math.ceil(from / tickMs) * tickMs; t <= to; t += tickMs) events.push({ at: t, order: 1 });
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  return events.flatMap((ev) => (ev.r ? e.onReading(ev.r, ev.at) : e.tick(ev.at)));
}

/** Compact view for assertions: "kind severity value/threshold@window +minutes". */
export const brief = (ts: Transition[], start = T0) =>
  ts.map((t) => `${t.kind} ${t.severity} ${round(t.value)}/${t.threshold}${t.window ? `@${t.window}` : ''} +${(t.at - start) / MIN}m`);

const round = (v: number) => Math.round(v * 1000) / 1000;
