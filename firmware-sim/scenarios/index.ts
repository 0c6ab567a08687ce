// Builds the scenario the options ask for.
import type { ScenarioName } from '../args.ts';
import type { Rng } from '../prng.ts';
import { designStorm } from './euler2.ts';
import { BUILTIN_CELLS, loadKostraCsv } from './kostra.ts';
import { loadReplay, replayScenario } from './replay.ts';
import { MIN, type Scenario } from './types.ts';
import { dryScenario, rainScenario } from './weather.ts';

export interface ScenarioInput {
  scenario: ScenarioName;
  returnPeriod: number;
  durationMs: number;
  tailMs: number;
  devices: number;
  cell: string;
  kostraFile?: string;
  csv?: string;
}

export function buildScenario(o: ScenarioInput, rng: Rng): Scenario & { deviceNames?: string[] } {
  if (o.scenario === 'replay') return replayScenario(loadReplay(o.csv!));
  if (o.scenario === 'dry') return dryScenario(o.durationMs + o.tailMs, o.devices, rng);
  const table = o.kostraFile ? loadKostraCsv(o.kostraFile) : BUILTIN_CELLS[o.cell];
  const cellName = o.kostraFile ?? `cell ${o.cell}`;
  const D = o.durationMs / MIN;
  const blocks = designStorm(table, o.returnPeriod, D, cellName);
  const total = blocks.reduce((a, b) => a + b, 0);
  const describe = `Euler II ${cellName} T=${o.returnPeriod} a D=${D} min, ${total.toFixed(1)} mm`;
  return rainScenario('euler2', blocks, o.durationMs + o.tailMs, o.devices, rng, describe);
}
