// Rules for operators: the list with state, a form from a preset or from scratch, a backtest preview over a
// stored period next to the current version, save, and the shadow toggle with a shadow-vs-live comparison.
// Rules are parsed, saved and backtested by the same service functions as /api/v1/rules.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Rule, RuleIssue } from '../../../alerts/rules/rule-types.ts';
import { BACKTEST_MAX_MS, type BacktestReadingCache, backtestRule, devicesInScope } from '../../alarms/backtest.ts';
import { lastReadingAt } from '../../alarms/console-store.ts';
import { RuleInvalid } from '../../alarms/rule-service.ts';
import type { OrgRule } from '../../alarms/rule-store.ts';
import { sees } from '../../api/auth.ts';
import { DEFAULT_ORG } from '../../auth/orgs.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebNotFound } from '../context.ts';
import { type Html, html, jsonBlock } from '../html.ts';
import { type RulesKey, rt } from '../i18n/rules.ts';
import type { I18n } from '../i18n.ts';
import { layout, message } from '../layout.ts';
import { FieldErrors, formOfBody, formOfRule, newForm, type PeriodChoice, presetKey, type RuleForm, ruleFormHtml, ruleInput } from './rule-form.ts';
import { previewCharts, previewHtml, type Version } from './rule-preview.ts';
import { berlinTime } from './station.ts';

const DAY = 86_400_000;
const ASSETS = { scripts: ['/assets/uplot/uPlot.iife.min.js', '/assets/app/rules.js'], styles: ['/assets/uplot/uPlot.min.css', '/assets/app/rules.css'] };
const PRESET_LIST = ['dwd-starkregen', 'dwd-dauerregen', 'pegel-meldestufen'] as const;

type Principal = ReturnType<typeof needUser>;

export async function rulePages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const svc = () => {
    if (!ctx.alarms) throw new WebNotFound();
    return ctx.alarms;
  };
  const ruleSvc = () => {
    if (!ctx.rules) throw new WebNotFound();
    return ctx.rules;
  };
  const ruleOf = (p: Principal, id: string): OrgRule => {
    const r = ruleSvc().get(id);
    if (!r || !sees(p, r.org)) throw new WebNotFound();
    return r;
  };
  const devicesOf = (org: string) => ctx.devices.list().filter((x) => x.org === org);

  /** Named periods: the fixed spans and the stored alarms of the last 30 days as storms to replay. */
  const periodChoices = async (i: I18n, org: string): Promise<PeriodChoice[]> => {
    const w = rt(i);
    const since = svc().now() - 30 * DAY;
    const alarms = (await svc().list({ state: 'all', limit: 200, org })).filter((a) => Date.parse(a.startedAt) >= since).slice(0, 12);
    return [
      { value: '30d', label: w('period_30d') },
      { value: '7d', label: w('period_7d') },
      { value: '24h', label: w('period_24h') },
      ...alarms.map((a) => ({
        value: `alarm:${a.id}`,
        label: w('period_storm', { rule: a.ruleName, station: ctx.devices.get(a.deviceId)?.name ?? a.deviceId, t: i.time(a.startedAt) }),
      })),
      { value: 'custom', label: w('period_custom') },
    ];
  };

  /** The period a form asks for, or an issue at `period`. */
  const periodOf = async (f: RuleForm, org: string, i: I18n): Promise<{ from: number; to: number } | RuleIssue> => {
    const now = svc().now();
    const spans: Record<string, number> = { '30d': 30 * DAY, '7d': 7 * DAY, '24h': DAY };
    if (spans[f.period]) return { from: now - spans[f.period], to: now };
    if (f.period.startsWith('alarm:')) {
      const a = await svc().get(f.period.slice(6));
      if (!a || a.org !== org) return { path: 'period', message: i.t('notfound_title') };
      const end = a.resolvedAt ?? a.closedAt;
      // the storm with room before it (the windows fill) and after it (the all-clear)
      return { from: Date.parse(a.startedAt) - 6 * 3_600_000, to: Math.min(now, (end ? Date.parse(end) : now) + 6 * 3_600_000) };
    }
    const from = berlinTime(f.from);
    const to = berlinTime(f.to);
    if (from === undefined || to === undefined) return { path: 'period', message: rt(i)('bad_time') };
    if (to <= from || to - from > BACKTEST_MAX_MS) return { path: 'period', message: '`to` must be after `from`, at most 31 days later' };
    return { from, to };
  };

  // ---- list ----
  app.get('/rules', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    const v = view(req);
    const { i } = v;
    const w = rt(i);
    const q = req.query as Record<string, string | undefined>;
    const rules = ruleSvc()
      .list()
      .filter((r) => sees(p, r.org))
      .sort((a, b) => a.name.localeCompare(b.name));
    const open = await svc().list({ state: 'active', limit: 1000, org: p.org });
    const rows = [];
    for (const r of rules) {
      const stations = devicesInScope(ctx.devices, r.scope, r.org);
      const last = await lastReadingAt(
        ctx.db,
        stations.map((s) => s.id),
        r.metric ?? null,
      );
      const n = open.filter((a) => a.ruleId === r.id).length;
      rows.push(html`<tr data-rule="${r.id}">
<td><a href="/rules/${encodeURIComponent(r.id)}">${r.name}</a>${r.org !== p.org ? html` <span class="muted">(${r.org})</span>` : ''}</td>
<td>${r.preset ? w(presetKey(r.preset)) : w(`kind_${r.kind}` as RulesKey)}</td>
<td>${stations.length === 1 ? w('one_station') : w('n_stations', { n: stations.length })}</td>
<td class="num">${n ? html`<a href="/?rule=${encodeURIComponent(r.id)}">${n}</a>` : '0'}</td>
<td><span class="mode mode-${r.enabled === false ? 'off' : r.mode}">${r.enabled === false ? w('disabled') : r.mode === 'shadow' ? w('mode_shadow') : w('mode_active')}</span></td>
<td>${last ? i.time(last) : w('never')}</td>
<td><form method="post" action="/rules/${encodeURIComponent(r.id)}/mode" class="inline"><input type="hidden" name="_csrf" value="${v.session?.csrf}">
<input type="hidden" name="mode" value="${r.mode === 'shadow' ? 'active' : 'shadow'}"><button type="submit">${r.mode === 'shadow' ? w('mode_to_active') : w('mode_to_shadow')}</button></form></td></tr>`);
    }
    const okText =
      q.ok === 'active' ? w('mode_changed_active') : q.ok === 'shadow' ? w('mode_changed_shadow') : q.ok === 'created' ? w('form_created') : undefined;
    const body = html`<section><h1>${w('rules_title')}</h1>${message('ok', okText)}
<p class="new-links">${w('rules_new')}: ${PRESET_LIST.map((x) => html`<a class="button" href="/rules/new?preset=${x}">${w('rules_new_preset', { name: w(presetKey(x)) })}</a> `)}
<a class="button" href="/rules/new">${w('rules_new_custom')}</a></p>
${
  rows.length
    ? html`<table class="rules"><thead><tr><th scope="col">${w('col_name')}</th><th scope="col">${w('col_kind')}</th><th scope="col">${w('col_scope')}</th><th scope="col">${w('col_open')}</th><th scope="col">${w('col_mode')}</th><th scope="col">${w('col_last_eval')}</th><th scope="col">${i.t('col_actions')}</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : html`<p class="muted">${w('rules_empty')}</p>`
}</section>`;
    return sendHtml(reply, layout(v, { title: w('rules_title'), page: 'rules', body, ...ASSETS }));
  });

  // ---- form, preview, save ----
  /** Renders the form page, with the preview when one was computed. */
  const formPage = async (
    req: FastifyRequest,
    o: { form: RuleForm; issues: RuleIssue[]; org: string; rule?: OrgRule; preview?: Html; previewData?: unknown; ok?: string },
  ) => {
    const v = view(req);
    const w = rt(v.i);
    const title = o.rule ? w('form_title_edit', { name: o.rule.name }) : w('form_title_new');
    const errs = new FieldErrors(o.issues);
    const form = ruleFormHtml(v, {
      form: o.form,
      errs,
      action: o.rule ? `/rules/${encodeURIComponent(o.rule.id)}` : '/rules/new',
      devices: devicesOf(o.org),
      periods: await periodChoices(v.i, o.org),
      isNew: !o.rule,
    });
    const extra = o.rule && !o.preview ? await ruleState(req, o.rule) : '';
    const body = html`<section class="rule-page"><p><a href="/rules">${w('back_to_rules')}</a></p><h1>${title}</h1>
${message('ok', o.ok)}${o.issues.length ? html`<p class="msg msg-error" role="alert">${w('form_errors')}</p>` : ''}
<div class="rule-layout"><div class="rule-form-col">${form}</div>${o.preview ? html`<div class="rule-preview-col">${o.preview}</div>` : ''}</div>
${extra}${o.previewData ? jsonBlock('preview-data', o.previewData) : ''}</section>`;
    return layout(v, { title, page: 'rule', body, ...ASSETS });
  };

  /** On an existing rule's page: its alarms, and for a shadow rule the comparison with live alarms. */
  const ruleState = async (req: FastifyRequest, r: OrgRule): Promise<Html> => {
    const { i } = view(req);
    const w = rt(i);
    const since = svc().now() - 30 * DAY;
    const mine = (await svc().list({ state: 'all', ruleId: r.id, limit: 500 })).filter((a) => Date.parse(a.startedAt) >= since);
    if (r.mode !== 'shadow') {
      return html`<section><h2>${w('rule_alarms')}</h2>${
        mine.length
          ? html`<ul>${mine.map((a) => html`<li><a href="/alarms/${a.id}"><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span> ${ctx.devices.get(a.deviceId)?.name ?? a.deviceId}, ${i.time(a.startedAt)}</a></li>`)}</ul>`
          : html`<p class="muted">${w('preview_none')}</p>`
      }</section>`;
    }
    const stations = devicesInScope(ctx.devices, r.scope, r.org);
    const live = (await svc().list({ state: 'all', mode: 'active', org: r.org, limit: 1000 })).filter(
      (a) => a.ruleId !== r.id && Date.parse(a.startedAt) >= since && stations.some((s) => s.id === a.deviceId),
    );
    const shadow = mine.filter((a) => a.mode === 'shadow');
    const ids = [...new Set([...shadow, ...live].map((a) => a.deviceId))];
    const cell = (as: typeof live) =>
      as.length
        ? html`${as.map((a) => html`<a href="/alarms/${a.id}"><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span> ${i.time(a.startedAt)}${a.mode === 'active' ? html` <span class="muted">(${a.ruleName})</span>` : ''}</a><br>`)}`
        : '–';
    return html`<section class="compare"><h2>${w('compare_title')}</h2><p class="muted">${w('compare_help')}</p>${
      ids.length
        ? html`<table><thead><tr><th scope="col">${i.t('col_station')}</th><th scope="col">${w('compare_shadow')}</th><th scope="col">${w('compare_live')}</th></tr></thead>
<tbody>${ids.map(
            (id) =>
              html`<tr data-device="${id}"><td>${ctx.devices.get(id)?.name ?? id}</td><td>${cell(shadow.filter((a) => a.deviceId === id))}</td><td>${cell(live.filter((a) => a.deviceId === id))}</td></tr>`,
          )}</tbody></table>`
        : html`<p class="muted">${w('compare_none')}</p>`
    }</section>`;
  };

  /** Preview or save, for a new rule (`rule` absent) or an existing one. */
  const submit = async (req: FastifyRequest, p: Principal, rule: OrgRule | undefined) => {
    const form = formOfBody(req.body);
    const org = rule?.org ?? p.org ?? DEFAULT_ORG;
    const { input, issues } = ruleInput(form);
    let def: Rule | undefined;
    try {
      def = { ...ruleSvc().parse(input), id: rule?.id ?? 'preview' };
    } catch (e) {
      if (!(e instanceof RuleInvalid)) throw e;
      issues.push(...e.issues);
    }
    if (issues.length || !def) return { status: 400, page: await formPage(req, { form, issues, org, rule }) };
    const actor = `web:${p.session.user.login}`;
    if (field(req.body, 'action') === 'save') {
      if (rule) {
        await ruleSvc().update(rule.id, input, actor);
        return { redirect: `/rules/${encodeURIComponent(rule.id)}?ok=saved` };
      }
      const created = await ruleSvc().create(input, actor, org);
      return { redirect: `/rules?ok=created#${created.id}` };
    }
    const period = await periodOf(form, org, req.web.i);
    if ('path' in period) return { status: 400, page: await formPage(req, { form, issues: [period], org, rule }) };
    const cache: BacktestReadingCache = new Map(); // the current and the edited version replay the same readings
    const next: Version = { rule: def, result: await backtestRule(ctx, def, org, period.from, period.to, cache) };
    let current: Version | undefined;
    if (rule) {
      const { org: _o, ...cur } = rule;
      current = { rule: cur, result: await backtestRule(ctx, cur, org, period.from, period.to, cache) };
    }
    const charts = previewCharts(req.web.i, next, current, period.to);
    const preview = previewHtml(req.web.i, next, current, period.from, period.to, charts);
    const previewData = { lang: req.web.i.lang, rows: charts.rows };
    return { status: 200, page: await formPage(req, { form, issues: [], org, rule, preview, previewData }) };
  };

  app.get('/rules/new', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    const q = req.query as Record<string, string | undefined>;
    const form = newForm(q.preset);
    const page = await formPage(req, { form, issues: [], org: p.org ?? DEFAULT_ORG });
    return sendHtml(reply, page);
  });

  app.post('/rules/new', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    checkCsrf(req);
    const r = await submit(req, p, undefined);
    if ('redirect' in r && r.redirect) return reply.redirect(r.redirect, 303);
    return sendHtml(reply, r.page!, r.status);
  });

  app.get('/rules/:id', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    const rule = ruleOf(p, (req.params as { id: string }).id);
    const q = req.query as Record<string, string | undefined>;
    const page = await formPage(req, {
      form: formOfRule(rule),
      issues: [],
      org: rule.org,
      rule,
      ok: q.ok === 'saved' ? rt(req.web.i)('form_saved') : undefined,
    });
    return sendHtml(reply, page);
  });

  app.post('/rules/:id', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    checkCsrf(req);
    const rule = ruleOf(p, (req.params as { id: string }).id);
    const r = await submit(req, p, rule);
    if ('redirect' in r && r.redirect) return reply.redirect(r.redirect, 303);
    return sendHtml(reply, r.page!, r.status);
  });

  app.post('/rules/:id/mode', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    checkCsrf(req);
    const rule = ruleOf(p, (req.params as { id: string }).id);
    const mode = field(req.body, 'mode') === 'shadow' ? 'shadow' : 'active';
    await ruleSvc().update(rule.id, { mode }, `web:${p.session.user.login}`);
    return reply.redirect(`/rules?ok=${mode}`, 303);
  });
}
