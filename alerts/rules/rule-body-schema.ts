// The shapes of a rule body and a preset body (zod); rule-schema.ts adds the meaning checks. [docs/api.md Rules]
import { z } from 'zod';
import { SEVERITIES } from '../types.ts';
import { tryParseDuration } from './duration.ts';
import { PRESETS, RULE_KINDS } from './rule-types.ts';

const duration = z.string().refine((s) => tryParseDuration(s) !== undefined, {
  error: (iss) => `bad duration ${JSON.stringify(iss.input)}: use a number and one unit s, m, h or d, e.g. "15m"`,
});
const finite = z.number({ error: 'must be a finite number' });
const mode = z.enum(['active', 'shadow']);

export const ScopeSchema = z
  .strictObject({
    deviceIds: z.array(z.string().min(1)).min(1).max(10_000).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .refine((s) => s.deviceIds !== undefined || Object.keys(s.tags ?? {}).length > 0, {
    error: 'scope needs deviceIds or at least one tag',
  });

// a confirming condition on other devices of the catchment [docs/warning-logic.md Combined rules]
const AndSchema = z.strictObject({
  metric: z.string().min(1),
  kind: z.enum(['threshold', 'accumulation']),
  window: duration.optional(),
  threshold: finite,
  tag: z.string().min(1).max(100).default('catchment'),
});

const LevelSchema = z.strictObject({
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }),
  window: duration.optional(),
  threshold: finite.optional(), // required except for offline; checked in semanticIssues
  // per level: strictly past the threshold (DWD "> 25 l/m²") instead of reaching it (DWD "15–25 l/m²")
  strict: z.boolean().optional(),
  and: AndSchema.optional(),
});

export const RuleBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  kind: z.enum(RULE_KINDS, { error: `must be one of ${RULE_KINDS.join(', ')}` }),
  metric: z.string().optional(),
  comparison: z.enum(['above', 'below']).default('above'),
  scope: ScopeSchema,
  levels: z.array(LevelSchema).min(1, { error: 'at least one level is needed' }).max(16),
  for: duration.default('0m'),
  clear: z
    .strictObject({ hysteresis: finite.min(0, { error: 'hysteresis must be 0 or more' }).default(0), for: duration.default('0m') })
    .default({ hysteresis: 0, for: '0m' }),
  mode: mode.default('active'),
  enabled: z.boolean().default(true),
  // how long the device may be silent before an open alarm is held as stale (default 3 × its median uplink
  // interval, at least 15 min)
  expectedInterval: duration.optional(),
  // accumulation: rain faster than this many mm per hour counts only at this rate (Dauerregen is even rain;
  // a cloudburst is Starkregen) [docs/warning-logic.md]
  intensityCap: finite.positive({ error: 'intensityCap must be a rate in mm per hour above 0' }).max(1000).optional(),
});
export type RuleBody = z.input<typeof RuleBodySchema>;
export type ParsedBody = z.output<typeof RuleBodySchema>;

export const PresetSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    preset: z.enum(PRESETS, { error: `must be one of ${PRESETS.join(', ')}` }),
    scope: ScopeSchema,
    thresholds: z.tuple([finite, finite, finite]).optional(),
    // tuning a preset to a site: how long a condition must hold, and how the all-clear is judged
    for: duration.optional(),
    clear: z.strictObject({ hysteresis: finite.min(0, { error: 'hysteresis must be 0 or more' }).optional(), for: duration.optional() }).optional(),
    mode: mode.optional(),
    enabled: z.boolean().optional(),
    expectedInterval: duration.optional(),
  })
  .superRefine((p, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['thresholds'], message });
    if (p.preset !== 'pegel-meldestufen') {
      if (p.thresholds) issue(`${p.preset} uses the fixed DWD thresholds; thresholds only apply to pegel-meldestufen`);
    } else if (!p.thresholds) issue('pegel-meldestufen needs thresholds: [Meldestufe I, II, III] in cm');
    else if (!(p.thresholds[0] < p.thresholds[1] && p.thresholds[1] < p.thresholds[2])) issue('thresholds must rise strictly: Meldestufe I < II < III');
  });
export type PresetInput = z.output<typeof PresetSchema>;
