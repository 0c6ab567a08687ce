// Notification routes: who is told about which alarms. Kept in memory for the alarm store's matching and
// the scheduler's reminders; every change goes through here, with its audit row. [docs/api.md Routes]
import type { RouteBody } from '../../alerts/routing/route-schema.ts';
import { audit } from '../audit-store.ts';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Db } from '../db/db.ts';
import { newId } from './ids.ts';
import type { OrgRoute, RouteStore } from './route-store.ts';
import type { EgressScope } from './webhook-egress.ts';

export class RouteService {
  private readonly routes = new Map<string, OrgRoute>();

  constructor(
    private readonly db: Db,
    private readonly store: RouteStore,
  ) {}

  /** Counts this process's committed writes, so a load() whose snapshot may predate one of them reads again. */
  private writes = 0;

  /** Reads every route from the database (at start, and when another process changed the configuration). */
  async load(): Promise<void> {
    // as DeviceRegistry.load: a route saved through this process while the select ran (the config sync's reload
    // on PostgreSQL) must not be dropped until the next sync
    let all: OrgRoute[];
    for (let attempt = 1; ; attempt++) {
      const seen = this.writes;
      all = await this.store.all();
      if (seen === this.writes || attempt >= 5) break;
    }
    this.routes.clear();
    for (const r of all) this.routes.set(r.id, r);
  }

  get(id: string): OrgRoute | undefined {
    return this.routes.get(id);
  }

  /** every route, oldest first */
  list(): OrgRoute[] {
    return [...this.routes.values()];
  }

  /** Creates (`id` undefined) or replaces a route. `egress`: who saves it decides where its webhooks may go [webhook-egress.ts] */
  async save(id: string | undefined, body: RouteBody, actor: string, org: string = DEFAULT_ORG, egress: EgressScope = 'municipality'): Promise<OrgRoute> {
    const route = { ...body, id: id ?? newId('route'), org };
    await this.db.transaction(async (tx) => {
      if (id) await this.store.update(tx, route, body, egress);
      else await this.store.insert(tx, route, body, egress);
      await audit(tx, actor, id ? 'update' : 'create', 'route', route.id, body);
    });
    this.routes.set(route.id, route);
    this.writes++;
    return route;
  }

  /** false when there was no such route */
  async delete(id: string, actor: string): Promise<boolean> {
    const ok = await this.db.transaction(async (tx) => {
      const deleted = await this.store.delete(tx, id);
      if (deleted) await audit(tx, actor, 'delete', 'route', id);
      return deleted;
    });
    this.routes.delete(id);
    this.writes++;
    return ok;
  }
}
