// Notification routes in PostgreSQL: the one place that reads and writes the routes table.
import type { Route, RouteBody } from '../../alerts/routing/route-schema.ts';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Queryable } from '../db/db.ts';
import type { EgressScope } from './webhook-egress.ts';

/** A route as stored: with the municipality it belongs to. [services/auth/orgs.ts] */
export type OrgRoute = Route & { org: string };

export class RouteStore {
  constructor(private readonly db: Queryable) {}

  /** Every route, oldest first. */
  async all(): Promise<OrgRoute[]> {
    const ro = await this.db.query<{ id: string; definition: RouteBody; org: string | null }>('select id, definition, org from routes order by created_at');
    return ro.rows.map((r) => ({ ...r.definition, id: r.id, org: r.org ?? DEFAULT_ORG }));
  }

  async insert(tx: Queryable, route: OrgRoute, body: RouteBody, egress: EgressScope): Promise<void> {
    await tx.query('insert into routes(id, name, definition, org, egress) values ($1,$2,$3,$4,$5)', [
      route.id,
      body.name,
      JSON.stringify(body),
      route.org,
      egress,
    ]);
  }

  async update(tx: Queryable, route: OrgRoute, body: RouteBody, egress: EgressScope): Promise<void> {
    await tx.query('update routes set name=$2, definition=$3, org=$4, egress=$5, updated_at=now() where id=$1', [
      route.id,
      body.name,
      JSON.stringify(body),
      route.org,
      egress,
    ]);
  }

  /** false when there was no such route */
  async delete(tx: Queryable, id: string): Promise<boolean> {
    const r = await tx.query('delete from routes where id = $1', [id]);
    return r.rowCount > 0;
  }
}
