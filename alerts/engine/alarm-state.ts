// The per-(rule, device) alarm state machine, on severity ranks only (no I/O, no units).
//  up:   the highest level whose entry condition holds must hold for `for` → firing / escalated.
//  down: each level rank r keeps the time since the value stopped supporting r (below its
//        threshold − hysteresis); the alarm drops to the highest rank whose timer is younger than
//        clear.for, or resolves when even the lowest level's timer matured. [docs/api.md Rules]
// Hysteresis on every level stops a gauge wobbling ±2 cm at a stage line from flapping. [domain S6]
import type { TransitionKind } from '../types.ts';

export interface AlarmState {
  /** −1 = no alarm open */
  rank: number;
  /** entry above the current rank holds since (engine clock, for `for`) */
  pendingSince?: number;
  /** the same, as the reading time at which the condition began (the alarm's startedAt) */
  conditionSince?: number;
  /** index into the compiled levels of the level that decided the last transition: the level in force */
  levelIndex?: number;
  /** per level rank: the value stopped supporting that rank since */
  below: (number | undefined)[];
  /** open alarm held because its device went silent (the time of its last reading) */
  staleSince?: number;
}

export interface LevelOutcome {
  /** highest rank whose threshold is reached, −1 if none */
  entryRank: number;
  /** highest rank whose threshold − hysteresis is still reached, −1 if none */
  holdRank: number;
}

export interface Timing {
  ranks: number[];
  forMs: number;
  clearForMs: number;
}

export interface Step {
  kind: Exclude<TransitionKind, 'stale'>;
  from: number;
  to: number;
}

export const newState = (rank = -1): AlarmState => ({ rank, below: [] });
export const isIdle = (s: AlarmState): boolean => s.rank < 0 && s.pendingSince === undefined;

function stepUp(st: AlarmState, entryRank: number, forMs: number, t: number): Step | undefined {
  st.pendingSince ??= t;
  if (t - st.pendingSince < forMs) return undefined;
  const from = st.rank;
  st.rank = entryRank;
  st.pendingSince = undefined;
  st.below = [];
  return { kind: from < 0 ? 'firing' : 'escalated', from, to: entryRank };
}

function stepDown(st: AlarmState, holdRank: number, p: Timing, t: number): Step | undefined {
  let to = -1;
  for (const r of p.ranks) {
    if (holdRank < r) st.below[r] ??= t;
    else st.below[r] = undefined;
    const since = st.below[r];
    const matured = since !== undefined && t - since >= p.clearForMs;
    if (r <= st.rank && !matured) to = r;
  }
  if (to >= st.rank) return undefined;
  const from = st.rank;
  st.rank = to;
  return { kind: to < 0 ? 'resolved' : 'deescalated', from, to };
}

/** Advances the state to time t; at most one transition per evaluation. */
export function step(st: AlarmState, o: LevelOutcome, p: Timing, t: number): Step | undefined {
  if (o.entryRank > st.rank) {
    // A higher severity is pending, so the current one is supported: its all-clear must start over, or a
    // dip before a short climb would count towards clear.for and resolve the alarm early.
    for (const r of p.ranks) if (r <= o.holdRank) st.below[r] = undefined;
    return stepUp(st, o.entryRank, p.forMs, t);
  }
  st.pendingSince = undefined; // `for` needs the condition to hold without a break
  return st.rank < 0 ? undefined : stepDown(st, o.holdRank, p, t);
}
