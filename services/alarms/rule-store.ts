// Rules in PostgreSQL: the one place that reads and writes the rules table. Each rule keeps the body as it
// was sent (`input`, so a PATCH merges into what the user wrote) and its parsed definition.
import type { Rule, RuleDefinition } from '../../alerts/rules/rule-types.ts';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Queryable } from '../db/db.ts';

/** A rule as stored: with the municipality it belongs to. [services/auth/orgs.ts] */
export type OrgRule = Rule & { org: string };

export class RuleStore {
  constructor(private readonly db: Queryable) {}

  /** Every rule, oldest first. */
  async all(): Promise<OrgRule[]> {
    const rs = await this.db.query<{ id: string; definition: RuleDefinition; org: string | null }>('select id, definition, org from rules order by created_at');
    return rs.rows.map((r) => ({ ...r.definition, id: r.id, org: r.org ?? DEFAULT_ORG }));
  }

  /** The body as the user last sent it, and the rule's municipality; undefined when there is no such rule. */
  async input(id: string): Promise<{ input: Record<string, unknown>; org: string } | undefined> {
    const r = await this.db.query<{ input: Record<string, unknown>; org: string | null }>('select input, org from rules where id = $1', [id]);
    return r.rows[0] ? { input: r.rows[0].input, org: r.rows[0].org ?? DEFAULT_ORG } : undefined;
  }

  async insert(tx: Queryable, rule: OrgRule, def: RuleDefinition, input: unknown): Promise<void> {
    await tx.query('insert into rules(id, name, definition, input, org) values ($1,$2,$3,$4,$5)', [
      rule.id,
      def.name,
      JSON.stringify(def),
      JSON.stringify(input),
      rule.org,
    ]);
  }

  async update(tx: Queryable, rule: OrgRule, def: RuleDefinition, input: unknown): Promise<void> {
    await tx.query('update rules set name=$2, definition=$3, input=$4, org=$5, updated_at=now() where id=$1', [
      rule.id,
      def.name,
      JSON.stringify(def),
      JSON.stringify(input),
      rule.org,
    ]);
  }

  /** false when there was no such rule */
  async delete(tx: Queryable, id: string): Promise<boolean> {
    const r = await tx.query('delete from rules where id = $1', [id]);
    return r.rowCount > 0;
  }
}
