// The body of a silence, as POST /api/v1/silences and the console's silence form take it. [docs/api.md Endpoints (silences)]
import { z } from 'zod';
import { orgSchema } from '../auth/orgs.ts';

const isoTime = z.iso.datetime({ offset: true });

export const silenceBody = z
  .object({
    match: z.object({
      deviceIds: z.array(z.string()).min(1).optional(),
      ruleIds: z.array(z.string()).min(1).optional(),
      tags: z.record(z.string(), z.string()).optional(),
    }),
    startsAt: isoTime.optional(),
    endsAt: isoTime,
    comment: z.string().max(1000).default(''),
    org: orgSchema.optional(),
  })
  .refine((s) => s.match.deviceIds || s.match.ruleIds || s.match.tags, { message: 'match must name deviceIds, ruleIds or tags', path: ['match'] })
  .refine((s) => Date.parse(s.endsAt) > (s.startsAt ? Date.parse(s.startsAt) : Date.now()), { message: 'endsAt must be after startsAt', path: ['endsAt'] });
export type SilenceBody = z.output<typeof silenceBody>;
