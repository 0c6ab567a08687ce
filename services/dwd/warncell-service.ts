// A municipality's DWD warncell, the one path for PUT /api/v1/orgs/{org} and the console's "DWD-Warnungen" section
// of the catchments page: validate, store with an audit entry, and hand the warning feed the cells now in force.
// [docs/dwd.md Warnings]
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { setWarncell, storedWarncells } from './warncell-store.ts';

/** 9 digits: 8 + the 8-digit AGS (e.g. 806631009 for Stadt Fulda). */
export const warncellIdSchema = z.string().regex(/^\d{9}$/, 'warncellId: the 9-digit DWD warncell id (8 + the 8-digit AGS, e.g. 806631009 for Stadt Fulda)');

/** What is in force: set through the API/console, else from DWD_WARNCELLS / CAP_ARS. */
export async function effectiveWarncells(ctx: AppContext): Promise<Record<string, string>> {
  return { ...ctx.config.dwd.warncells, ...(await storedWarncells(ctx.db)) };
}

export async function warncellOf(ctx: AppContext, org: string): Promise<string | null> {
  return (await effectiveWarncells(ctx))[org] ?? null;
}

/** Sets (null: clears) the org's warncell, audited as `actor`; the running warning feed follows. Returns what is in force. */
export async function setOrgWarncell(ctx: AppContext, actor: string, org: string, warncellId: string | null): Promise<string | null> {
  await setWarncell(ctx.db, actor, org, warncellId);
  const cells = await effectiveWarncells(ctx);
  await ctx.dwd?.warnings?.setWarncells(cells);
  return cells[org] ?? null;
}
