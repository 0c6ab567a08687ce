// The municipalities of an installation as its admin sees them: every org that owns a device, a user or a
// token, with how many of each and its open alarms. Orgs have no table of their own (a key on each row).
import type { Queryable } from '../db/db.ts';

export interface OrgOverview {
  org: string;
  devices: number;
  users: number;
  tokens: number;
  openAlarms: number;
}

export async function orgOverview(db: Queryable): Promise<OrgOverview[]> {
  const r = await db.query<{ org: string; devices: string; users: string; tokens: string; alarms: string }>(
    `with o as (select org from devices union select org from users where org is not null
                union select org from api_tokens where org is not null and revoked_at is null)
     select o.org,
       (select count(*) from devices d where d.org = o.org) as devices,
       (select count(*) from users u where u.org = o.org and u.disabled_at is null) as users,
       (select count(*) from api_tokens t where t.org = o.org and t.revoked_at is null) as tokens,
       (select count(*) from alarms a where a.org = o.org and a.state in ('firing', 'acknowledged') and a.mode = 'active') as alarms
     from o order by o.org`,
  );
  return r.rows.map((x) => ({ org: x.org, devices: Number(x.devices), users: Number(x.users), tokens: Number(x.tokens), openAlarms: Number(x.alarms) }));
}
