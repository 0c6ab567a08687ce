// Warning rules: parsed and checked here, stored by the rule store, kept in memory for the engine. A rule
// that is disabled or deleted ends its open alarms in the same transaction. [docs/api.md Rules]
import { parseRuleInput } from '../../alerts/rules/rule-schema.ts';
import type { RuleDefinition, RuleIssue } from '../../alerts/rules/rule-types.ts';
import { audit } from '../audit-store.ts';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Db } from '../db/db.ts';
import type { AlarmService } from './alarm-service.ts';
import type { Applied } from './alarm-store.ts';
import { newId } from './ids.ts';
import type { OrgRule, RuleStore } from './rule-store.ts';

export class RuleInvalid extends Error {
  constructor(readonly issues: RuleIssue[]) {
    super(`invalid rule: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

export interface RuleHooks {
  /** after every change of the rule set, loads included (the rule engine takes the new rules) */
  onChanged?: () => void;
}

export class RuleService {
  private readonly rules = new Map<string, OrgRule>();
  private readonly onChanged: () => void;

  constructor(
    private readonly db: Db,
    private readonly store: RuleStore,
    private readonly alarms: AlarmService,
    hooks: RuleHooks = {},
  ) {
    this.onChanged = hooks.onChanged ?? (() => {});
  }

  /** Counts this process's committed writes, so a load() whose snapshot may predate one of them reads again. */
  private writes = 0;

  /** Reads every rule from the database (at start, and when another process changed the configuration). */
  async load(): Promise<void> {
    // as DeviceRegistry.load: a rule created through this process while the select ran (the config sync's reload
    // on PostgreSQL) must not be dropped from the engine until the next sync
    let all: OrgRule[];
    for (let attempt = 1; ; attempt++) {
      const seen = this.writes;
      all = await this.store.all();
      if (seen === this.writes || attempt >= 5) break;
    }
    this.rules.clear();
    for (const r of all) this.rules.set(r.id, r);
    this.onChanged();
  }

  get(id: string): OrgRule | undefined {
    return this.rules.get(id);
  }

  /** every rule, oldest first */
  list(): OrgRule[] {
    return [...this.rules.values()];
  }

  /** The rule a body describes, or RuleInvalid naming every problem by its path. */
  parse(body: unknown): RuleDefinition {
    const r = parseRuleInput(body);
    if (!r.ok) throw new RuleInvalid(r.issues);
    return r.rule;
  }

  async create(body: unknown, actor: string, org: string = DEFAULT_ORG): Promise<OrgRule> {
    const def = this.parse(body);
    const rule = { ...def, id: newId('rule'), org };
    await this.db.transaction(async (tx) => {
      await this.store.insert(tx, rule, def, body);
      await audit(tx, actor, 'create', 'rule', rule.id, body);
    });
    this.rules.set(rule.id, rule);
    this.writes++;
    this.onChanged();
    return rule;
  }

  /** `org` moves the rule to another municipality (the API lets only installation-wide tokens do that). */
  async update(id: string, patch: Record<string, unknown>, actor: string, org?: string): Promise<OrgRule | undefined> {
    const cur = await this.store.input(id);
    if (!cur) return undefined;
    const input = { ...cur.input, ...patch };
    const def = this.parse(input);
    const rule = { ...def, id, org: org ?? cur.org };
    const { switched, closed } = await this.db.transaction(async (tx) => {
      await this.store.update(tx, rule, def, input);
      await audit(tx, actor, 'update', 'rule', id, patch);
      // A disabled rule ends its open alarms now; an edited one has them re-judged by the engine. [docs/api.md Alarms]
      if (def.enabled === false) return { switched: [] as Applied[], closed: await this.alarms.closeForRule(tx, id, 'rule_disabled') };
      return { switched: await this.alarms.switchMode(tx, id, def.mode, actor), closed: [] as Applied[] };
    });
    this.rules.set(id, rule);
    this.writes++;
    this.alarms.afterClose(closed);
    this.onChanged();
    this.alarms.afterSwitch(switched);
    return rule;
  }

  /** false when there was no such rule */
  async delete(id: string, actor: string): Promise<boolean> {
    const { ok, closed } = await this.db.transaction(async (tx) => {
      if (!(await this.store.delete(tx, id))) return { ok: false, closed: [] as Applied[] };
      await audit(tx, actor, 'delete', 'rule', id);
      return { ok: true, closed: await this.alarms.closeForRule(tx, id, 'rule_deleted') };
    });
    this.rules.delete(id);
    this.writes++;
    this.alarms.afterClose(closed);
    this.onChanged();
    return ok;
  }
}
