// Property: for random reading streams — late, re-delivered, with outages, restarts of the service and rule
// edits at random points — the real engine (with the app's restart path) raises exactly the alarm
// transitions that a brute-force model of the documented semantics computes from the full reading list.
// Fixed seed and a bounded number of runs, so CI is repeatable; a failure prints its seed and the shrunk
// scenario. Reproduce one with ORACLE_SEED=<seed> (and ORACLE_PATH=<path> for the shrunk case).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { canonical, runEngine, runOracle, story } from './harness.ts';
import { buildScenario, type Dimensions, scenarioInput } from './scenario.ts';

/**
 * Dimensions waiting for a fix on main (issue 10). Each is off only while the engine's documented
 * behaviour is being changed; switch it on when the change lands.
 */
const WAITING_FOR: Partial<Record<keyof Dimensions, string>> = {};

const DIMENSIONS: Dimensions = {
  late: true,
  duplicates: true,
  gaps: true,
  restarts: true,
  ruleEdits: !WAITING_FOR.ruleEdits,
  futureStamps: !WAITING_FOR.futureStamps,
  counters: !WAITING_FOR.counters,
  staleHold: !WAITING_FOR.staleHold,
};

const SEED = Number(process.env.ORACLE_SEED ?? 11);
const RUNS = Number(process.env.ORACLE_RUNS ?? 200);

describe('rule engine vs brute-force oracle', () => {
  it(`agrees on every alarm transition over ${RUNS} random storms (seed ${SEED})`, { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioInput, async (input) => {
        const sc = buildScenario(input, DIMENSIONS);
        const engine = canonical(await runEngine(sc));
        const oracle = canonical(runOracle(sc, { rejudgeOnEdit: DIMENSIONS.ruleEdits, staleHold: DIMENSIONS.staleHold }));
        if (JSON.stringify(engine) === JSON.stringify(oracle)) return;
        // show only the alarms (rule/device) whose transitions differ
        const alarm = (line: string) => line.split(' ')[1];
        const differ = new Set(
          [...engine, ...oracle]
            .map(alarm)
            .filter((a) => JSON.stringify(engine.filter((l) => alarm(l) === a)) !== JSON.stringify(oracle.filter((l) => alarm(l) === a))),
        );
        const show = (ls: string[]) => ls.filter((l) => differ.has(alarm(l))).join('\n  ');
        throw new Error(`engine:\n  ${show(engine)}\noracle:\n  ${show(oracle)}`);
      }),
      {
        seed: SEED,
        numRuns: RUNS,
        path: process.env.ORACLE_PATH,
        endOnFailure: process.env.ORACLE_SHRINK === '0',
        // shrinking a long storm can take a while; stop it in time to print what it found
        interruptAfterTimeLimit: 60_000,
        reporter(run) {
          if (!run.failed || !run.counterexample) return;
          const sc = buildScenario(run.counterexample[0], DIMENSIONS);
          const message = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
          // the story of the gauges whose alarms differ
          const devices = new Set([...message.matchAll(/ [\w-]+\/([\w-]+) /g)].map((m) => m[1]));
          throw new Error(
            `engine and oracle disagree — reproduce with ORACLE_SEED=${run.seed} ORACLE_PATH=${run.counterexample ? run.counterexamplePath : ''}\n` +
              `${story(sc, devices.size ? devices : undefined)}\n${message}`,
          );
        },
      },
    );
  });
});
