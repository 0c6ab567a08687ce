// MQTT credentials: the one code path behind /api/v1/mqtt-credentials and the console's credential pages.
// A password is returned once (create, rotate) and never stored in clear. [docs/security.md]
import { z } from 'zod';
import { ApiError, conflict, notFound } from '../api/errors.ts';
import { audit } from '../audit-store.ts';
import type { AppContext } from '../context.ts';
import { orgFilterProblem } from './mqtt-acl.ts';
import { forbiddenSubscription, validFilter } from './mqtt-credentials.ts';
import type { Principal } from './token-store.ts';

const filter = z.string().refine(validFilter, 'not a valid MQTT topic filter');
export const credentialBody = z.object({
  username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - only, at most 64'),
  publish: z.array(filter).min(1).max(100),
  /** none by default: the broker is an intake; e.g. a dashboard bridge may be given some */
  subscribe: z
    .array(filter.refine((f) => !forbiddenSubscription(f), 'no $share/$SYS subscriptions and nothing that reads every topic'))
    .max(100)
    .default([]),
});
export type CredentialBody = z.infer<typeof credentialBody>;

type Ctx = Pick<AppContext, 'db' | 'devices' | 'credentials'>;

export async function createCredential(ctx: Ctx, p: Principal, by: string, b: CredentialBody) {
  const org = p.org;
  // a municipality grants rights to its own devices' topics only, never # or a wildcard device
  if (org !== null) {
    const problems = [...b.publish, ...b.subscribe].map((f) => orgFilterProblem(ctx.devices, org, f)).filter((x) => x !== null);
    if (problems.length) throw new ApiError('FORBIDDEN', problems.join('; '), [{ path: 'body.publish', message: problems.join('; ') }]);
  }
  const taken = () => conflict(`MQTT username '${b.username}' already exists`);
  if (await ctx.credentials.taken(b.username)) throw taken();
  const c = await ctx.db
    .transaction(async (tx) => {
      const c = await ctx.credentials.create(tx, { ...b, org }, by);
      await audit(tx, by, 'create', 'mqtt-credential', b.username, { publish: b.publish, subscribe: b.subscribe, org });
      return c;
    })
    .catch((e: { code?: string }) => {
      // two requests racing past the check above
      if (e.code === '23505') throw taken();
      throw e;
    });
  return { username: c.username, password: c.password, publish: b.publish, subscribe: b.subscribe, org };
}

export async function removeCredential(ctx: Ctx, p: Principal, by: string, username: string): Promise<void> {
  if (!(await ctx.credentials.visible(username, p.org))) throw notFound('MQTT credential', username);
  const ok = await ctx.credentials.remove(ctx.db, username);
  if (!ok) throw notFound('MQTT credential', username);
  await audit(ctx.db, by, 'delete', 'mqtt-credential', username);
}

/** A new password, shown once; connections made with the old one are closed. */
export async function rotateCredential(ctx: Ctx, p: Principal, by: string, username: string): Promise<{ username: string; password: string }> {
  if (!(await ctx.credentials.visible(username, p.org))) throw notFound('MQTT credential', username);
  const password = await ctx.credentials.rotate(ctx.db, username);
  if (!password) throw notFound('MQTT credential', username);
  await audit(ctx.db, by, 'rotate', 'mqtt-credential', username);
  return { username, password };
}
