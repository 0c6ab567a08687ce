// Alarm view: what happened (transitions), who was told what and whether it arrived, acknowledge with a
// comment. The acknowledgement goes through the alarm service, as POST /api/v1/alarms/:id/ack does.
import type { FastifyInstance } from 'fastify';
import { sees } from '../../api/auth.ts';
import { allowed } from '../../auth/roles.ts';
import { checkCsrf, field, needUser, safeNext, sendHtml, view, type WebDeps, WebNotFound } from '../context.ts';
import { html } from '../html.ts';
import { rt } from '../i18n/rules.ts';
import type { MessageKey } from '../i18n.ts';
import { layout, message } from '../layout.ts';
import { ackForm, valueText } from './lagebild.ts';

type Detail = NonNullable<Awaited<ReturnType<NonNullable<WebDeps['ctx']['alarms']>['get']>>>;

export async function alarmPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const load = async (id: string, org: string | null): Promise<Detail> => {
    if (!ctx.alarms || !/^\d{1,18}$/.test(id)) throw new WebNotFound();
    const a = await ctx.alarms.get(id);
    if (!a || !sees({ tokenId: 0, name: '', role: 'viewer', org }, a.org)) throw new WebNotFound();
    return a;
  };

  app.get('/alarms/:id', async (req, reply) => {
    const p = needUser(req);
    const a = await load((req.params as { id: string }).id, p.org);
    const v = view(req);
    const { i } = v;
    const { t } = i;
    const q = req.query as Record<string, string>;
    const dev = ctx.devices.get(a.deviceId);
    const endedAt = a.resolvedAt ?? a.closedAt ?? null;
    const canAck = allowed(p.role, 'alarms:ack') && a.state === 'firing';
    const evWord = (k: string) => t(`ev_${k}` as MessageKey);
    const nState = (s: string) => (['pending', 'sending', 'held', 'failed', 'delivered'].includes(s) ? t(`n_state_${s}` as MessageKey) : s);
    const body = html`<section>
<h1><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span> ${a.ruleName}</h1>
${message('ok', q.ok === 'ack' ? t('ack_done') : undefined)}${message('error', q.error === 'resolved' ? t('ack_resolved') : undefined)}
<dl class="facts">
  <div><dt>${t('alarm_station')}</dt><dd><a href="/stations/${encodeURIComponent(a.deviceId)}">${dev?.name ?? a.deviceId}</a></dd></div>
  <div><dt>${t('col_value')}</dt><dd>${valueText(i, a)}</dd></div>
  <div><dt>${t('col_state')}</dt><dd>${t(a.state === 'firing' ? 'state_firing' : a.state === 'acknowledged' ? 'state_acknowledged' : a.state === 'closed' ? 'state_closed' : 'state_resolved')}</dd></div>
  <div><dt>${t('alarm_started')}</dt><dd>${i.time(a.startedAt)}</dd></div>
  <div><dt>${t('col_running')}</dt><dd>${i.duration((endedAt ? Date.parse(endedAt) : Date.now()) - Date.parse(a.startedAt))}</dd></div>
  ${endedAt ? html`<div><dt>${t('alarm_resolved')}</dt><dd>${i.time(endedAt)}</dd></div>` : ''}
  ${a.acknowledgedBy ? html`<div><dt>${t('col_acked_by')}</dt><dd>${a.acknowledgedBy}, ${i.time(a.acknowledgedAt)}</dd></div>` : ''}
</dl>
${canAck ? html`<div class="card">${ackForm(v, a, `/alarms/${a.id}`, true)}</div>` : ''}
${allowed(p.role, 'silences:write') && (a.state === 'firing' || a.state === 'acknowledged') ? html`<p><a class="button" href="/silences?alarm=${a.id}#new-silence">${rt(i)('silence_from_alarm')}</a></p>` : ''}
<h2>${t('alarm_history')}</h2>
<table class="history">
<thead><tr><th scope="col">${t('col_time')}</th><th scope="col">${t('col_event')}</th><th scope="col">${t('col_severity')}</th><th scope="col">${t('col_value')}</th><th scope="col">${t('col_by')}</th><th scope="col">${t('col_comment')}</th></tr></thead>
<tbody>${a.events.map(
      (e) => html`<tr><td>${i.time(e.at)}</td><td>${evWord(e.kind)}</td><td><span class="sev sev-${e.severity}">${i.sev(e.severity as never)}</span></td>
<td>${e.value !== null && e.threshold !== null ? valueText(i, { value: e.value, threshold: e.threshold, unit: a.unit, window: null }) : ''}</td><td>${e.actor ?? ''}</td><td>${e.comment ?? ''}</td></tr>`,
    )}</tbody>
</table>
<h2>${t('alarm_notifications')}</h2>
${
  a.notifications.length
    ? html`<table class="notifications">
<thead><tr><th scope="col">${t('col_time')}</th><th scope="col">${t('col_channel')}</th><th scope="col">${t('col_to')}</th><th scope="col">${t('col_type')}</th><th scope="col">${t('col_delivery')}</th></tr></thead>
<tbody>${a.notifications.map(
        (
          n,
        ) => html`<tr><td>${i.time(n.createdAt)}</td><td>${n.channel}</td><td>${n.to ?? ''}</td><td>${n.type}${n.purpose !== 'event' ? ` (${n.purpose})` : ''}</td>
<td>${n.state === 'delivered' ? html`${t('delivered')} ${i.time(n.deliveredAt)}` : nState(n.state)}${n.attempts.length ? html` · ${t('attempts', { n: n.attempts.length })}` : ''}${'handset' in n && n.handset ? html` · <span class="handset">${t(`handset_${n.handset}` as MessageKey)}</span>` : ''}${n.lastError ? html`<br><span class="muted">${n.lastError}</span>` : ''}${n.attempts.map((x) => ('provider' in x && x.provider ? html`<br><span class="muted">${x.provider}${x.report ? `: ${x.report.status}` : ''}</span>` : ''))}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">${t('alarm_no_notifications')}</p>`
}
</section>`;
    return sendHtml(reply, layout(v, { title: t('alarm_title', { id: a.id }), page: 'alarm', body }));
  });

  app.post('/alarms/:id/ack', async (req, reply) => {
    const p = needUser(req, 'alarms:ack');
    checkCsrf(req);
    const id = (req.params as { id: string }).id;
    await load(id, p.org);
    const comment = field(req.body, 'comment').trim().slice(0, 1000) || undefined;
    const r = await ctx.alarms!.acknowledge(id, p.session.user.name, comment);
    const wantsJson = (req.headers.accept ?? '').includes('application/json');
    if (wantsJson) {
      if (r === 'not_found') return reply.code(404).send({ error: 'not_found' });
      if (r === 'resolved' || r === 'closed') return reply.code(409).send({ error: 'resolved' });
      return { id: r.id, state: r.state, acknowledgedBy: r.acknowledgedBy };
    }
    const back = safeNext(field(req.body, 'back') || `/alarms/${id}`);
    if (r === 'resolved' || r === 'closed') return reply.redirect(`/alarms/${id}?error=resolved`, 303);
    return reply.redirect(back.startsWith(`/alarms/${id}`) ? `/alarms/${id}?ok=ack` : back, 303);
  });
}
