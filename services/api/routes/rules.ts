// Alarm rules and their backtest. [docs/api.md Rules]
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PresetSchema, RuleBodySchema } from '../../../alerts/rules/rule-body-schema.ts';
import { BACKTEST_MAX_MS, backtestRule } from '../../alarms/backtest.ts';
import { RuleInvalid, type RuleService } from '../../alarms/rule-service.ts';
import { orgSchema } from '../../auth/orgs.ts';
import { backtestOut, ruleOut } from '../alarm-schemas.ts';
import { actor, assertOrg, need, orgFor, sees } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, isoTime, itemsOf, noContent, responses } from '../schemas.ts';

const org = { org: orgSchema.optional().describe('the municipality; only an installation-wide token may choose it') };
const ruleExample = {
  name: 'Starkregen Gießen-Nord',
  kind: 'accumulation',
  metric: 'rain_mm',
  scope: { deviceIds: ['gauge-01'] },
  levels: [
    { severity: 'moderate', window: '1h', threshold: 15 },
    { severity: 'severe', window: '1h', threshold: 25, strict: true },
  ],
  clear: { hysteresis: 2, for: '15m' },
};
/** What the documentation shows: a full rule, or a preset that expands to one. */
const ruleBodyDoc = z
  .union([RuleBodySchema.safeExtend(org).meta({ id: 'RuleBody' }), PresetSchema.safeExtend(org).meta({ id: 'PresetBody' })])
  .meta({ examples: [ruleExample, { preset: 'dwd-starkregen', scope: { tags: { river: 'lahn' } } }] });
/** A change: the fields given replace the stored ones, the result is checked as a whole. */
const rulePatchDoc = RuleBodySchema.partial()
  .safeExtend(org)
  .meta({ examples: [{ mode: 'shadow' }] });

/** The body is checked by parseRuleInput (alerts/rules/rule-schema.ts), which names every problem by its path;
 *  the request validator only asks for a JSON object. */
const anObject = z.record(z.string(), z.unknown());
const objectOnly: FastifySchemaCompiler<unknown> = ({ method, url, httpPart }) => validatorCompiler({ schema: anObject, method, url, httpPart });

/** A rule body's `org` is not part of the rule definition: split it off before parsing. */
function splitOrg(body: Record<string, unknown>): { org: string | undefined; rest: Record<string, unknown> } {
  const { org, ...rest } = body;
  if (org === undefined) return { org: undefined, rest };
  const r = orgSchema.safeParse(org);
  if (!r.success)
    throw new ApiError('VALIDATION_FAILED', 'invalid request: body.org: lowercase letters, digits and - only, at most 40', [
      { path: 'body.org', message: r.error.issues[0]?.message },
    ]);
  return { org: r.data, rest };
}

function ruleError(e: unknown): never {
  if (e instanceof RuleInvalid) throw new ApiError('VALIDATION_FAILED', e.message, e.issues);
  throw e;
}

export const ruleRoutes: ApiRoutes<{ rules: RuleService }> = async (app, { ctx, rules }) => {
  app.post(
    '',
    {
      schema: { tags: ['rules'], summary: 'Create a rule (or expand a preset)', body: ruleBodyDoc, response: responses({ 201: ruleOut }) },
      validatorCompiler: objectOnly,
    },
    async (req, reply) => {
      const p = need(req, 'rules:write');
      const { org, rest } = splitOrg(req.body as Record<string, unknown>);
      const rule = await rules.create(rest, actor(p), orgFor(p, org)).catch(ruleError);
      return reply.code(201).send(rule);
    },
  );
  app.get('', { schema: { tags: ['rules'], summary: 'List rules', response: responses({ 200: itemsOf(ruleOut) }) } }, async (req) => {
    const p = need(req, 'read');
    return { items: rules.list().filter((r) => sees(p, r.org)) };
  });
  app.get('/:id', { schema: { tags: ['rules'], summary: 'One rule', params: idParam, response: responses({ 200: ruleOut }) } }, async (req) => {
    const p = need(req, 'read');
    const r = rules.get(req.params.id);
    if (!r) throw notFound('rule', req.params.id);
    assertOrg(p, r.org, 'rule', req.params.id);
    return r;
  });
  app.patch(
    '/:id',
    {
      schema: {
        tags: ['rules'],
        summary: 'Change a rule; its open alarms are re-judged (or closed when it is disabled)',
        params: idParam,
        body: rulePatchDoc,
        response: responses({ 200: ruleOut }),
      },
      validatorCompiler: objectOnly,
    },
    async (req) => {
      const p = need(req, 'rules:write');
      const cur = rules.get(req.params.id);
      assertOrg(p, cur?.org, 'rule', req.params.id);
      const { org, rest } = splitOrg(req.body as Record<string, unknown>);
      const r = await rules.update(req.params.id, rest, actor(p), org === undefined ? undefined : orgFor(p, org, cur?.org)).catch(ruleError);
      if (!r) throw notFound('rule', req.params.id);
      return r;
    },
  );
  app.delete(
    '/:id',
    { schema: { tags: ['rules'], summary: 'Delete a rule; its open alarms are closed', params: idParam, response: responses({ 204: noContent }) } },
    async (req, reply) => {
      const p = need(req, 'rules:write');
      assertOrg(p, rules.get(req.params.id)?.org, 'rule', req.params.id);
      if (!(await rules.delete(req.params.id, actor(p)))) throw notFound('rule', req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    '/:id/backtest',
    {
      schema: {
        tags: ['rules'],
        summary: 'The alarms a rule would have raised over stored readings (at most 31 days)',
        params: idParam,
        body: z.object({ from: isoTime, to: isoTime }),
        response: responses({ 200: backtestOut }),
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const found = rules.get(req.params.id);
      if (!found) throw notFound('rule', req.params.id);
      assertOrg(p, found.org, 'rule', req.params.id);
      const { org: ruleOrg, ...rule } = found;
      const from = Date.parse(req.body.from);
      const to = Date.parse(req.body.to);
      if (to <= from || to - from > BACKTEST_MAX_MS) throw new ApiError('VALIDATION_FAILED', '`to` must be after `from`, at most 31 days later', []);
      const { readingCount, transitions, alarms } = await backtestRule(ctx, rule, ruleOrg, from, to);
      return {
        ruleId: rule.id,
        from: req.body.from,
        to: req.body.to,
        readings: readingCount,
        alarms,
        transitions: transitions.map((t) => ({ ...t, at: new Date(t.at).toISOString() })),
      };
    },
  );
};
