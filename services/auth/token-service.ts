// API tokens: the one code path behind /api/v1/tokens and the console's token page. The secret is shown once.
import { z } from 'zod';
import { ApiError, notFound } from '../api/errors.ts';
import { audit } from '../audit-store.ts';
import type { AppContext } from '../context.ts';
import { bigintId } from '../db/ids.ts';
import { orgSchema } from './orgs.ts';
import { ROLES } from './roles.ts';
import type { Principal } from './token-store.ts';

export const tokenBody = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(ROLES),
  org: orgSchema.optional(),
  /** optional end of validity; the token answers 401 from then on */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type TokenBody = z.infer<typeof tokenBody>;

type Ctx = Pick<AppContext, 'db' | 'tokens'>;

export async function createToken(ctx: Ctx, p: Principal, by: string, b: TokenBody) {
  // A municipality's admin hands out tokens of its own municipality only; omitted org: the creator's.
  if (p.org !== null && b.org !== undefined && b.org !== p.org) {
    throw new ApiError('FORBIDDEN', `this token belongs to municipality '${p.org}' and may only create tokens for '${p.org}', not '${b.org}'`);
  }
  const expiresAt = b.expiresAt ? new Date(b.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    throw new ApiError('VALIDATION_FAILED', 'invalid request: body.expiresAt: must be in the future', [
      { path: 'body.expiresAt', message: 'must be in the future' },
    ]);
  }
  const org = p.org ?? b.org ?? null;
  const t = await ctx.tokens.create(b.name, b.role, by, org, expiresAt);
  await audit(ctx.db, by, 'create', 'token', String(t.id), {
    name: b.name,
    role: b.role,
    ...(org !== null && { org }),
    ...(expiresAt && { expiresAt }),
  });
  return {
    id: t.id,
    name: b.name,
    role: b.role,
    ...(org !== null && { org }),
    ...(expiresAt && { expiresAt: expiresAt.toISOString() }),
    token: t.token,
  };
}

export async function revokeToken(ctx: Ctx, p: Principal, by: string, rawId: string): Promise<void> {
  const id = bigintId(rawId);
  if (id === undefined || !(await ctx.tokens.revoke(id, p.org))) throw notFound('token', rawId);
  await audit(ctx.db, by, 'revoke', 'token', String(id));
}
