// Registry of the built-in device models the simulator can impersonate (docs/topics.md, Device models).
import { dlAtm41, dlMbx, dlPr26, dlPr36 } from './decentlab.ts';
import { ldds20, ldds75, sn50v3Count } from './dragino.ts';
import { elsysElt } from './elsys.ts';
import { em310Udl, em500Udl } from './milesight.ts';
import { s2120 } from './sensecap.ts';
import type { ModelSpec } from './types.ts';

export type { EncodedFrame, ModelSpec, SensorKind, SensorReading } from './types.ts';

export const MODELS: Readonly<Record<string, ModelSpec>> = Object.freeze(
  Object.fromEntries([dlMbx, dlPr26, dlPr36, dlAtm41, ldds75, ldds20, sn50v3Count, em310Udl, em500Udl, elsysElt, s2120].map((m) => [m.model, m])),
);

export const MODEL_NAMES = Object.keys(MODELS);

export function getModel(model: string): ModelSpec {
  const m = MODELS[model];
  if (!m) throw new Error(`unknown model "${model}"; built-in models: ${MODEL_NAMES.join(', ')}`);
  return m;
}
