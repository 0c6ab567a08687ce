// Routes for operators: who is told about which alarms, what each route matches ("passt auf 12 Stationen,
// 3 Regeln"), how the deliveries to each target went in the last 7 days, and a test message per target.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Target } from '../../../alerts/channels/types.ts';
import { coverageGaps, describeWhen, localTime } from '../../../alerts/routing/oncall.ts';
import { devicesInScope } from '../../alarms/backtest.ts';
import { deliveriesByTarget } from '../../alarms/console-store.ts';
import type { OrgRoute } from '../../alarms/route-store.ts';
import { sendTestMessage, targetAddress } from '../../alarms/route-test.ts';
import { type EgressScope, refusedRouteTargets, WebhookEgress } from '../../alarms/webhook-egress.ts';
import { sees } from '../../api/auth.ts';
import { DEFAULT_ORG } from '../../auth/orgs.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebNotFound } from '../context.ts';
import { csrfField, type FieldErrors } from '../form.ts';
import { type Html, html } from '../html.ts';
import { rt } from '../i18n/rules.ts';
import { layout, message } from '../layout.ts';
import { formOfRoute, newRouteForm, parseRouteForm, type RouteForm, routeFormHtml } from './route-form.ts';

const ASSETS = { styles: ['/assets/app/rules.css'] };
type Principal = ReturnType<typeof needUser>;

/** Phone numbers shown with the middle masked; webhook URLs without their query (it may hold a key). */
const shownAddress = (t: Target): string => {
  if (t.type !== 'webhook') return t.to.replace(/^(\+\d{4})\d+(\d{2})$/, '$1…$2');
  const u = new URL(t.url);
  return `${u.origin}${u.pathname}`;
};

export async function routePages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const svc = () => {
    if (!ctx.alarms) throw new WebNotFound();
    return ctx.alarms;
  };
  const ruleSvc = () => {
    if (!ctx.rules) throw new WebNotFound();
    return ctx.rules;
  };
  const routeSvc = () => {
    if (!ctx.routes) throw new WebNotFound();
    return ctx.routes;
  };

  /** Stations and rules a route matches: its municipality's stations by id and tags, the active rules on them. */
  const matches = (r: OrgRoute) => {
    const stations = ctx.devices
      .list()
      .filter(
        (x) =>
          x.org === r.org && (!r.match.deviceIds || r.match.deviceIds.includes(x.id)) && Object.entries(r.match.tags ?? {}).every(([k, v]) => x.tags[k] === v),
      );
    const ids = new Set(stations.map((x) => x.id));
    const rules = ruleSvc()
      .list()
      .filter(
        (x) =>
          x.org === r.org &&
          x.enabled !== false &&
          x.mode === 'active' &&
          (!r.match.ruleIds || r.match.ruleIds.includes(x.id)) &&
          devicesInScope(ctx.devices, x.scope, x.org).some((s) => ids.has(s.id)),
      );
    return { stations, rules };
  };

  const page = async (req: FastifyRequest, p: Principal, o: { ok?: string; error?: string } = {}) => {
    const v = view(req);
    const { i } = v;
    const w = rt(i);
    const routes = routeSvc()
      .list()
      .filter((r) => sees(p, r.org))
      .sort((a, b) => a.name.localeCompare(b.name));
    const stats = await deliveriesByTarget(
      ctx.db,
      routes.map((r) => r.id),
      new Date(svc().now() - 7 * 86_400_000),
    );
    const cards = routes.map((r) => {
      const m = matches(r);
      const today = localTime(svc().now()).date;
      const gaps = [...coverageGaps(r.targets, 'targets', today), ...(r.escalate ? coverageGaps(r.escalate.targets, 'escalate.targets', today) : [])];
      const targets: { t: Target; escalation: boolean }[] = [
        ...r.targets.map((t) => ({ t, escalation: false })),
        ...(r.escalate?.targets ?? []).map((t) => ({ t, escalation: true })),
      ];
      return html`<article class="route-card" data-route="${r.id}" aria-labelledby="r-${r.id}">
<h2 id="r-${r.id}"><a href="/routes/${encodeURIComponent(r.id)}/edit" aria-label="${w('routes_edit')}: ${r.name}">${r.name}</a>${r.enabled ? '' : html` <span class="muted">(${w('routes_disabled')})</span>`}${r.org !== p.org ? html` <span class="muted">(${r.org})</span>` : ''}</h2>
<p class="route-matches"><strong>${w('routes_matches', { s: m.stations.length, r: m.rules.length })}</strong> · ${w('routes_min_sev', { sev: i.sev(r.match.minSeverity) })}
${r.repeatEvery ? html` · ↻ ${r.repeatEvery}` : ''}${r.escalate ? html` · ${w('routes_escalate', { after: r.escalate.after })}` : ''}</p>
${gaps.length ? html`<p class="oncall-gaps">${w('routes_gaps', { gaps: gaps.map((g) => `${g.day ?? g.date} ${g.from}–${g.to}`).join(', ') })}</p>` : ''}
${m.rules.length ? html`<p class="muted">${i.t('col_rule')}: ${m.rules.map((x) => x.name).join(', ')}</p>` : ''}
<table class="targets"><thead><tr><th scope="col">${w('col_target')}</th><th scope="col">${w('col_counts')}</th><th scope="col">${w('col_last_ok')}</th><th scope="col">${w('col_last_fail')}</th><th scope="col">${i.t('col_actions')}</th></tr></thead>
<tbody>${targets.map(({ t, escalation }, k) => {
        const st = stats.find((x) => x.routeId === r.id && x.to === targetAddress(t));
        return html`<tr data-target="${k}"><td>${t.type} ${shownAddress(t)}${t.when ? html` <span class="oncall">(${describeWhen(t.when)})</span>` : ''}${escalation ? html` <span class="muted">(${w('routes_escalate', { after: r.escalate?.after ?? '' })})</span>` : ''}</td>
<td class="num">${st ? `${st.delivered} / ${st.failed} / ${st.open}` : '0 / 0 / 0'}</td>
<td>${st?.lastDeliveredAt ? i.time(st.lastDeliveredAt) : '–'}</td>
<td>${st?.lastFailedAt ? html`${i.time(st.lastFailedAt)}${st.lastError ? html`<br><span class="muted">${st.lastError}</span>` : ''}` : '–'}</td>
<td><form method="post" action="/routes/${encodeURIComponent(r.id)}/test" class="inline"><input type="hidden" name="_csrf" value="${v.session?.csrf}"><input type="hidden" name="target" value="${k}"><button type="submit">${w('test_send')}</button></form></td></tr>`;
      })}</tbody></table></article>`;
    });
    const body = html`<section><h1>${w('routes_title')}</h1><p class="muted">${w('routes_help')}</p>${message('ok', o.ok)}${message('error', o.error)}
<p><a class="button" href="/routes/new">${w('routes_new')}</a></p>
${cards.length ? cards : html`<p class="muted">${w('routes_empty')}</p>`}</section>`;
    return layout(v, { title: w('routes_title'), page: 'routes', body, ...ASSETS });
  };

  app.get('/routes', async (req, reply) => {
    const ok = (req.query as { ok?: string }).ok;
    const w = rt(req.web.i);
    const said = ok === 'created' ? w('routes_created') : ok === 'saved' ? w('routes_saved') : ok === 'deleted' ? w('routes_deleted') : undefined;
    return sendHtml(reply, await page(req, needUser(req, 'routes:write'), { ok: said }));
  });

  /** The form page: new (`route` undefined) or editing; org = the route's municipality. */
  const formPage = (req: FastifyRequest, o: { form: RouteForm; errs: FieldErrors; org: string; route?: OrgRoute }) => {
    const v = view(req);
    const w = rt(v.i);
    const devices = ctx.devices.list().filter((x) => x.org === o.org);
    const rules = ruleSvc()
      .list()
      .filter((x) => x.org === o.org)
      .map((x) => ({ id: x.id, name: x.name }));
    const title = o.route ? w('route_edit_title') : w('routes_new');
    const action = o.route ? `/routes/${encodeURIComponent(o.route.id)}/edit` : '/routes/new';
    const del = o.route
      ? html`<form method="post" action="/routes/${encodeURIComponent(o.route.id)}/delete" class="inline">${csrfField(v.session?.csrf)}<button type="submit" class="danger">${w('routes_delete')}</button></form>`
      : '';
    const body = html`<section><p><a href="/routes">← ${w('routes_title')}</a></p><h1>${title}${o.route ? html`: ${o.route.name}` : ''}</h1>
${routeFormHtml(v, { form: o.form, errs: o.errs, action, devices, rules, isNew: !o.route })}${del}</section>`;
    return layout(v, { title, page: 'routes', body, ...ASSETS });
  };

  /** Saves through the same service and the same webhook egress check as PUT/POST /api/v1/routes. */
  const save = async (req: FastifyRequest, p: Principal, route: OrgRoute | undefined): Promise<{ redirect: string } | { status: number; page: Html }> => {
    const form = (req.body ?? {}) as RouteForm;
    const org = route?.org ?? p.org ?? DEFAULT_ORG;
    const parsed = parseRouteForm(form, route);
    if (!parsed.ok) return { status: 400, page: formPage(req, { form, errs: parsed.errs, org, route }) };
    const scope: EgressScope = p.org === null && p.role === 'admin' ? 'installation' : 'municipality';
    const refused = await refusedRouteTargets(new WebhookEgress(ctx.config.webhookAllowNets), scope, parsed.body);
    if (refused.length) {
      const errs = Object.fromEntries(refused.map((x) => [x.path.replace(/\.url$/, '.to'), x.message]));
      return { status: 400, page: formPage(req, { form, errs, org, route }) };
    }
    const saved = await routeSvc().save(route?.id, parsed.body, `web:${p.session.user.login}`, org, scope);
    req.log.info({ routeId: saved.id }, route ? 'route changed in the console' : 'route created in the console');
    return { redirect: `/routes?ok=${route ? 'saved' : 'created'}#r-${saved.id}` };
  };
  const routeOf = (req: FastifyRequest, p: Principal) => {
    const r = routeSvc().get((req.params as { id: string }).id);
    if (!r || !sees(p, r.org)) throw new WebNotFound();
    return r;
  };

  app.get('/routes/new', async (req, reply) => {
    const p = needUser(req, 'routes:write');
    return sendHtml(reply, formPage(req, { form: newRouteForm(), errs: {}, org: p.org ?? DEFAULT_ORG }));
  });
  app.post('/routes/new', async (req, reply) => {
    const p = needUser(req, 'routes:write');
    checkCsrf(req);
    const r = await save(req, p, undefined);
    return 'redirect' in r ? reply.redirect(r.redirect, 303) : sendHtml(reply, r.page, r.status);
  });
  app.get('/routes/:id/edit', async (req, reply) => {
    const p = needUser(req, 'routes:write');
    const route = routeOf(req, p);
    return sendHtml(reply, formPage(req, { form: formOfRoute(route), errs: {}, org: route.org, route }));
  });
  app.post('/routes/:id/edit', async (req, reply) => {
    const p = needUser(req, 'routes:write');
    checkCsrf(req);
    const r = await save(req, p, routeOf(req, p));
    return 'redirect' in r ? reply.redirect(r.redirect, 303) : sendHtml(reply, r.page, r.status);
  });
  app.post('/routes/:id/delete', async (req, reply) => {
    const p = needUser(req, 'routes:write');
    checkCsrf(req);
    const route = routeOf(req, p);
    await routeSvc().delete(route.id, `web:${p.session.user.login}`);
    return reply.redirect('/routes?ok=deleted', 303);
  });

  app.post('/routes/:id/test', async (req, reply) => {
    const p = needUser(req, 'routes:write');
    checkCsrf(req);
    const r = routeSvc().get((req.params as { id: string }).id);
    if (!r || !sees(p, r.org)) throw new WebNotFound();
    const all = [...r.targets, ...(r.escalate?.targets ?? [])];
    const t = all[Number(field(req.body, 'target'))];
    if (!t) throw new WebNotFound();
    const res = await sendTestMessage({ db: ctx.db, config: ctx.config, now: svc().now }, r, t);
    req.log.info({ routeId: r.id, ok: res.ok, status: res.status }, 'test message sent from the console');
    const w = rt(req.web.i);
    const to = shownAddress(t);
    return sendHtml(
      reply,
      await page(
        req,
        p,
        res.ok ? { ok: w('test_sent', { to, status: res.status ?? 'ok' }) } : { error: w('test_failed', { to, error: res.error ?? String(res.status ?? '') }) },
      ),
      res.ok ? 200 : 502,
    );
  });
}
