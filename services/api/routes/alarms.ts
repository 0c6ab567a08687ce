import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type CapMsgType, capAlertXml, capAtomFeed } from '../../../alerts/channels/cap.ts';
import { alarmTitle } from '../../../alerts/channels/wording.ts';
import { type RouteBody, routeSchema } from '../../../alerts/routing/route-schema.ts';
import { newId, RuleInvalid } from '../../alarms/alarm-service.ts';
import { BACKTEST_MAX_MS, backtestRule } from '../../alarms/backtest.ts';
import { endSilence, insertSilence, listSilences } from '../../alarms/silence-store.ts';
import { type EgressScope, WebhookEgress } from '../../alarms/webhook-egress.ts';
import { audit } from '../../audit.ts';
import { orgSchema } from '../../auth/orgs.ts';
import type { Principal } from '../../auth/token-store.ts';
import type { AppContext } from '../../context.ts';
import { bigintId } from '../../db/ids.ts';
import { actor, assertOrg, need, orgFilter, orgFor, sees } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';

const idParam = z.object({ id: z.string() });
/** The CAP Atom feed lists every alarm open or changed this long ago at most. [docs/formats.md CAP] */
const FEED_WINDOW_MS = 24 * 3_600_000;
const iso = z.iso.datetime({ offset: true });

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

export async function alarmRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = ctx.alarms!;

  // ---- rules [docs/api.md Rules] ----
  app.post('/api/v1/rules', { schema: { tags: ['rules'], body: z.record(z.string(), z.unknown()) } }, async (req, reply) => {
    const p = need(req, 'rules:write');
    const { org, rest } = splitOrg(req.body);
    const rule = await svc.createRule(rest, actor(p), orgFor(p, org)).catch(ruleError);
    return reply.code(201).send(rule);
  });
  app.get('/api/v1/rules', { schema: { tags: ['rules'] } }, async (req) => {
    const p = need(req, 'read');
    return { items: [...svc.rules.values()].filter((r) => sees(p, r.org)) };
  });
  app.get('/api/v1/rules/:id', { schema: { tags: ['rules'], params: idParam } }, async (req) => {
    const p = need(req, 'read');
    const r = svc.rules.get(req.params.id);
    if (!r) throw notFound('rule', req.params.id);
    assertOrg(p, r.org, 'rule', req.params.id);
    return r;
  });
  app.patch('/api/v1/rules/:id', { schema: { tags: ['rules'], params: idParam, body: z.record(z.string(), z.unknown()) } }, async (req) => {
    const p = need(req, 'rules:write');
    const cur = svc.rules.get(req.params.id);
    assertOrg(p, cur?.org, 'rule', req.params.id);
    const { org, rest } = splitOrg(req.body);
    const r = await svc.updateRule(req.params.id, rest, actor(p), org === undefined ? undefined : orgFor(p, org, cur?.org)).catch(ruleError);
    if (!r) throw notFound('rule', req.params.id);
    return r;
  });
  app.delete('/api/v1/rules/:id', { schema: { tags: ['rules'], params: idParam } }, async (req, reply) => {
    const p = need(req, 'rules:write');
    assertOrg(p, svc.rules.get(req.params.id)?.org, 'rule', req.params.id);
    if (!(await svc.deleteRule(req.params.id, actor(p)))) throw notFound('rule', req.params.id);
    return reply.code(204).send();
  });
  app.post('/api/v1/rules/:id/backtest', { schema: { tags: ['rules'], params: idParam, body: z.object({ from: iso, to: iso }) } }, async (req) => {
    const p = need(req, 'read');
    const found = svc.rules.get(req.params.id);
    if (!found) throw notFound('rule', req.params.id);
    assertOrg(p, found.org, 'rule', req.params.id);
    const { org: ruleOrg, ...rule } = found;
    const from = Date.parse(req.body.from);
    const to = Date.parse(req.body.to);
    if (to <= from || to - from > BACKTEST_MAX_MS) throw new ApiError('VALIDATION_FAILED', '`to` must be after `from`, at most 31 days later', []);
    const { readings, transitions: ts, alarms } = await backtestRule(ctx, rule, ruleOrg, from, to);
    return {
      ruleId: rule.id,
      from: req.body.from,
      to: req.body.to,
      readings: readings.length,
      alarms,
      transitions: ts.map((t) => ({ ...t, at: new Date(t.at).toISOString() })),
    };
  });

  // ---- alarms [docs/api.md] ----
  const listQuery = z.object({
    state: z.enum(['active', 'all', 'firing', 'acknowledged', 'resolved', 'closed']).default('active'),
    deviceId: z.string().optional(),
    ruleId: z.string().optional(),
    mode: z.enum(['active', 'shadow']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  });
  app.get('/api/v1/alarms', { schema: { tags: ['alarms'], querystring: listQuery } }, async (req) => {
    const p = need(req, 'read');
    return { items: await svc.list({ ...req.query, org: orgFilter(p) }) };
  });
  app.get('/api/v1/alarms/:id', { schema: { tags: ['alarms'], params: idParam } }, async (req) => {
    const p = need(req, 'read');
    const a = await svc.get(req.params.id);
    if (!a) throw notFound('alarm', req.params.id);
    // an alarm stays with the municipality it fired for, even once its device id is gone [issue 11]
    assertOrg(p, a.org, 'alarm', req.params.id);
    return a;
  });
  app.post(
    '/api/v1/alarms/:id/ack',
    { schema: { tags: ['alarms'], params: idParam, body: z.object({ comment: z.string().max(1000).optional() }).optional() } },
    async (req) => {
      const p = need(req, 'alarms:ack');
      if (!bigintId(req.params.id)) throw notFound('alarm', req.params.id);
      if (p.org !== null) assertOrg(p, await svc.orgOf(req.params.id), 'alarm', req.params.id);
      const r = await svc.acknowledge(req.params.id, p.name, req.body?.comment);
      if (r === 'not_found') throw notFound('alarm', req.params.id);
      if (r === 'resolved' || r === 'closed') throw new ApiError('CONFLICT', `alarm ${req.params.id} is already ${r}`);
      return r;
    },
  );

  // ---- routes [docs/formats.md] ----
  const routeBody = routeSchema.extend({ org: orgSchema.optional() });
  const egress = new WebhookEgress(ctx.config.webhookAllowNets);
  /** A webhook target the saving token may not reach is refused at save (and again at every delivery). */
  const checkTargets = async (p: Principal, body: RouteBody): Promise<EgressScope> => {
    const scope: EgressScope = p.org === null && p.role === 'admin' ? 'installation' : 'municipality';
    const lists = [
      ['targets', body.targets],
      ['escalate.targets', body.escalate?.targets ?? []],
    ] as const;
    const problems = [];
    for (const [where, ts] of lists) {
      for (const [i, t] of ts.entries()) {
        const why = t.type === 'webhook' ? await egress.refuseUrl(t.url, scope) : undefined;
        if (why) problems.push({ path: `body.${where}.${i}.url`, message: `webhook target not allowed: ${why}` });
      }
    }
    if (problems.length) throw new ApiError('VALIDATION_FAILED', `invalid request: ${problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`, problems);
    return scope;
  };
  app.post('/api/v1/routes', { schema: { tags: ['routes'], body: routeBody } }, async (req, reply) => {
    const p = need(req, 'routes:write');
    const { org, ...body } = req.body;
    const o = orgFor(p, org);
    const scope = await checkTargets(p, body);
    return reply.code(201).send(redactRoute(await svc.saveRoute(undefined, body, actor(p), o, scope)));
  });
  app.get('/api/v1/routes', { schema: { tags: ['routes'] } }, async (req) => {
    const p = need(req, 'read');
    return { items: [...svc.routes.values()].filter((r) => sees(p, r.org)).map(redactRoute) };
  });
  app.get('/api/v1/routes/:id', { schema: { tags: ['routes'], params: idParam } }, async (req) => {
    const p = need(req, 'read');
    const r = svc.routes.get(req.params.id);
    if (!r) throw notFound('route', req.params.id);
    assertOrg(p, r.org, 'route', req.params.id);
    return redactRoute(r);
  });
  app.put('/api/v1/routes/:id', { schema: { tags: ['routes'], params: idParam, body: routeBody } }, async (req) => {
    const p = need(req, 'routes:write');
    const cur = svc.routes.get(req.params.id);
    if (!cur) throw notFound('route', req.params.id);
    assertOrg(p, cur.org, 'route', req.params.id);
    const { org, ...body } = req.body;
    const o = orgFor(p, org, cur.org);
    const scope = await checkTargets(p, body);
    return redactRoute(await svc.saveRoute(req.params.id, body, actor(p), o, scope));
  });
  app.delete('/api/v1/routes/:id', { schema: { tags: ['routes'], params: idParam } }, async (req, reply) => {
    const p = need(req, 'routes:write');
    assertOrg(p, svc.routes.get(req.params.id)?.org, 'route', req.params.id);
    if (!(await svc.deleteRoute(req.params.id, actor(p)))) throw notFound('route', req.params.id);
    return reply.code(204).send();
  });

  // ---- silences [docs/api.md] ----
  const silenceBody = z
    .object({
      match: z.object({
        deviceIds: z.array(z.string()).min(1).optional(),
        ruleIds: z.array(z.string()).min(1).optional(),
        tags: z.record(z.string(), z.string()).optional(),
      }),
      startsAt: iso.optional(),
      endsAt: iso,
      comment: z.string().max(1000).default(''),
      org: orgSchema.optional(),
    })
    .refine((s) => s.match.deviceIds || s.match.ruleIds || s.match.tags, { message: 'match must name deviceIds, ruleIds or tags', path: ['match'] })
    .refine((s) => Date.parse(s.endsAt) > (s.startsAt ? Date.parse(s.startsAt) : Date.now()), { message: 'endsAt must be after startsAt', path: ['endsAt'] });
  app.post('/api/v1/silences', { schema: { tags: ['silences'], body: silenceBody } }, async (req, reply) => {
    const p = need(req, 'silences:write');
    const org = orgFor(p, req.body.org);
    const id = newId('sil');
    const starts = req.body.startsAt ? new Date(req.body.startsAt) : new Date(svc.now());
    await ctx.db.transaction(async (tx) => {
      await insertSilence(tx, {
        id,
        match: req.body.match,
        startsAt: starts,
        endsAt: new Date(req.body.endsAt),
        comment: req.body.comment,
        createdBy: actor(p),
        org,
      });
      await audit(tx, actor(p), 'create', 'silence', id, req.body);
    });
    return reply.code(201).send({
      id,
      match: req.body.match,
      startsAt: starts.toISOString(),
      endsAt: new Date(req.body.endsAt).toISOString(),
      comment: req.body.comment,
      createdBy: p.name,
      org,
    });
  });
  app.get('/api/v1/silences', { schema: { tags: ['silences'] } }, async (req) => {
    const p = need(req, 'read');
    const rows = await listSilences(ctx.db, new Date(svc.now()), orgFilter(p));
    return { items: rows.map((s) => ({ ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() })) };
  });
  app.delete('/api/v1/silences/:id', { schema: { tags: ['silences'], params: idParam } }, async (req, reply) => {
    const p = need(req, 'silences:write');
    // Ending a silence early: it ends now, and the scheduler releases what it held.
    if (!(await endSilence(ctx.db, req.params.id, new Date(svc.now()), orgFilter(p)))) throw notFound('silence', req.params.id);
    await audit(ctx.db, actor(p), 'delete', 'silence', req.params.id);
    return reply.code(204).send();
  });

  // ---- CAP 1.2 [docs/formats.md CAP 1.2] ----
  const sender = `regenwacht@${new URL(ctx.config.publicUrl).hostname}`;
  const capFor = async (alarmId: string) => {
    const a = await svc.get(alarmId);
    if (!a) return undefined;
    // acknowledgements and unacknowledged-escalations are the operators' business, not a warning's change
    const ev = a.events.filter((e) => e.kind !== 'acknowledged' && e.kind !== 'escalated_unacknowledged');
    const docs: { identifier: string; sent: Date; type: CapMsgType }[] = ev.map((e, i) => ({
      identifier: `urn:regenwacht:alarm:${a.id}:${e.id}`,
      sent: new Date(e.at ?? a.updatedAt),
      type: e.kind === 'resolved' || e.kind === 'closed' ? 'Cancel' : i === 0 ? 'Alert' : 'Update',
    }));
    const last = docs[docs.length - 1];
    const d = ctx.devices.get(a.deviceId);
    const stamp = (x: Date) => x.toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const xml = capAlertXml({
      alarm: a,
      device: { name: d?.name ?? a.deviceId, location: d?.location ?? null },
      msgType: last?.type ?? 'Alert',
      identifier: last?.identifier ?? `urn:regenwacht:alarm:${a.id}`,
      sent: last?.sent ?? new Date(a.startedAt),
      references: docs.slice(0, -1).map((x) => `${sender},${x.identifier},${stamp(x.sent)}`),
      sender,
      publicUrl: ctx.config.publicUrl,
      ...ctx.config.cap,
      ars: Object.hasOwn(ctx.config.capArs, a.org) ? ctx.config.capArs[a.org] : undefined,
    });
    return { alarm: a, xml, last };
  };
  app.get(
    '/api/v1/cap/alerts/:file',
    { schema: { tags: ['cap'], params: z.object({ file: z.string().regex(/^\d+\.xml$/, 'expected <alarmId>.xml') }) } },
    async (req, reply) => {
      const p = need(req, 'read');
      const id = req.params.file.replace(/\.xml$/, '');
      const c = await capFor(id);
      if (!c) throw notFound('alarm', id);
      assertOrg(p, c.alarm.org, 'alarm', id);
      return reply.type('application/cap+xml; charset=utf-8').send(c.xml);
    },
  );
  app.get('/api/v1/cap/alerts.atom', { schema: { tags: ['cap'] } }, async (req, reply) => {
    const p = need(req, 'read');
    // every alarm open or changed in the last 24 h, so a feed reader also sees the Cancel that ends a warning
    const since = svc.now() - FEED_WINDOW_MS;
    const listed = await svc.list({ state: 'all', mode: 'active', limit: 1000, org: orgFilter(p) });
    const shown = listed.filter((a) => a.mode === 'active' && (a.state === 'firing' || a.state === 'acknowledged' || Date.parse(a.updatedAt) >= since));
    const entries = [];
    for (const a of shown) {
      const c = await capFor(a.id);
      if (c?.last)
        entries.push({
          alarm: a,
          identifier: c.last.identifier,
          sent: c.last.sent,
          xmlUrl: `${ctx.config.publicUrl}/api/v1/cap/alerts/${a.id}.xml`,
          title: `${c.last.type === 'Cancel' ? 'Beendet: ' : ''}${alarmTitle(a)} – ${a.ruleName}: ${a.deviceId}`,
        });
    }
    return reply.type('application/atom+xml; charset=utf-8').send(
      capAtomFeed(entries, {
        selfUrl: `${ctx.config.publicUrl}/api/v1/cap/alerts.atom`,
        updated: new Date(Math.max(svc.now(), ...entries.map((e) => e.sent.getTime()))),
      }),
    );
  });
}

/** Webhook secrets are write-only. */
function redactRoute<T extends { targets: unknown[]; escalate?: { targets: unknown[] } }>(r: T): T {
  const red = (ts: unknown[]) => ts.map((t) => (t && typeof t === 'object' && 'secret' in t ? { ...t, secret: 'whsec_…' } : t));
  return { ...r, targets: red(r.targets), ...(r.escalate ? { escalate: { ...r.escalate, targets: red(r.escalate.targets) } } : {}) };
}
