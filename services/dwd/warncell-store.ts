// A municipality's DWD warncell set through the API (PUT /api/v1/orgs/{org} {"warncellId"}); SQL of the org_dwd
// table. It wins over DWD_WARNCELLS and CAP_ARS. [docs/dwd.md Warnings] [migrations/020_dwd_contract.sql]
import { audit } from '../audit-store.ts';
import type { Db, Queryable } from '../db/db.ts';

export async function storedWarncells(db: Queryable): Promise<Record<string, string>> {
  const r = await db.query<{ org: string; warncell_id: string }>('select org, warncell_id from org_dwd order by org');
  return Object.fromEntries(r.rows.map((x) => [x.org, x.warncell_id]));
}

/** Sets (or with null clears) the org's warncell. */
export async function putWarncell(db: Queryable, org: string, warncellId: string | null): Promise<void> {
  if (warncellId === null) await db.query('delete from org_dwd where org = $1', [org]);
  else
    await db.query(
      `insert into org_dwd(org, warncell_id) values ($1, $2)
       on conflict (org) do update set warncell_id = excluded.warncell_id, updated_at = now()`,
      [org, warncellId],
    );
}

/** Sets or clears the org's warncell and records who did it in the audit log, in one transaction. */
export async function setWarncell(db: Db, actor: string, org: string, warncellId: string | null): Promise<void> {
  await db.transaction(async (tx) => {
    await putWarncell(tx, org, warncellId);
    await audit(tx, actor, 'update', 'org', org, { warncellId });
  });
}
