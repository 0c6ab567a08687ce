// Silences for operators: running and planned ones with what they match, a form (stations, rules, tags,
// start, end, comment) that previews the open alarms and stations it would hold, and "end now". A silence
// made from an alarm starts with that alarm's station and rule. Same schema and store as /api/v1/silences.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type SilenceMatch, silenceMatches } from '../../../alerts/routing/route-schema.ts';
import type { Alarm } from '../../../alerts/types.ts';
import { newId } from '../../alarms/ids.ts';
import { silenceBody } from '../../alarms/silence-schema.ts';
import { cancelSilence, createSilence, listSilences } from '../../alarms/silence-store.ts';
import { sees } from '../../api/auth.ts';
import { DEFAULT_ORG } from '../../auth/orgs.ts';
import type { Device } from '../../devices/device-registry.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebNotFound } from '../context.ts';
import { type Html, html } from '../html.ts';
import { rt } from '../i18n/rules.ts';
import { layout, message } from '../layout.ts';
import { parseTags } from './rule-form.ts';
import { berlinTime } from './station.ts';

const H = 3_600_000;
const ASSETS = { styles: ['/assets/app/rules.css'] };

interface SilenceForm {
  deviceIds: string[];
  ruleIds: string[];
  tags: string;
  startsAt: string;
  endsAt: string;
  comment: string;
  fromAlarm: string;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);

/** `YYYY-MM-DDTHH:mm` in Europe/Berlin, for a datetime-local field. */
export function berlinLocal(t: number): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(t)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

type Principal = ReturnType<typeof needUser>;

export async function silencePages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const svc = () => {
    if (!ctx.alarms) throw new WebNotFound();
    return ctx.alarms;
  };
  const ruleSvc = () => {
    if (!ctx.rules) throw new WebNotFound();
    return ctx.rules;
  };
  const orgOf = (p: Principal) => p.org ?? DEFAULT_ORG;
  const devicesOf = (org: string) => ctx.devices.list().filter((x) => x.org === org);
  const rulesOf = (org: string) =>
    ruleSvc()
      .list()
      .filter((r) => r.org === org)
      .sort((a, b) => a.name.localeCompare(b.name));

  /** Open alarms and stations of `org` a silence with this match would hold. */
  const held = async (match: SilenceMatch, org: string): Promise<{ alarms: Alarm[]; stations: Device[] }> => {
    const devs = devicesOf(org);
    const tagsOf = (id: string) => devs.find((x) => x.id === id)?.tags ?? {};
    const open = await svc().list({ state: 'active', mode: 'active', limit: 1000, org });
    const alarms = open.filter((a) => silenceMatches(match, a, tagsOf(a.deviceId)));
    // a station is held when some alarm of it would be: its id and tags match (the rules are per alarm)
    const stations = devs.filter(
      (x) =>
        (!match.deviceIds || match.deviceIds.includes(x.id)) &&
        Object.entries(match.tags ?? {}).every(([k, v]) => x.tags[k] === v) &&
        !!(match.deviceIds || match.ruleIds || match.tags),
    );
    return { alarms, stations };
  };

  const matchText = (m: SilenceMatch, org: string): string => {
    const parts: string[] = [];
    if (m.deviceIds) parts.push(m.deviceIds.map((id) => ctx.devices.get(id)?.name ?? id).join(', '));
    if (m.ruleIds) parts.push(m.ruleIds.map((id) => ruleSvc().get(id)?.name ?? id).join(', '));
    if (m.tags)
      parts.push(
        Object.entries(m.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
      );
    return `${parts.join(' · ')}${org ? '' : ''}`;
  };

  const page = async (req: FastifyRequest, p: Principal, f: SilenceForm, o: { issues?: { path: string; message: string }[]; preview?: Html; ok?: string }) => {
    const v = view(req);
    const { i } = v;
    const w = rt(i);
    const org = orgOf(p);
    const now = svc().now();
    const rows = (await listSilences(ctx.db, new Date(now), p.org)).filter((s) => sees(p, s.org));
    const issues = o.issues ?? [];
    const err = (path: string) => {
      const xs = issues.filter((x) => x.path === path || x.path.startsWith(`${path}.`));
      return xs.length ? html`<p class="field-error" id="s-${path}-err">${xs.map((x) => x.message).join('; ')}</p>` : '';
    };
    const inv = (path: string) => (issues.some((x) => x.path === path) ? html` aria-invalid="true" aria-describedby="s-${path}-err"` : '');
    const body = html`<section><h1>${w('silences_title')}</h1><p class="muted">${w('silences_help')}</p>${message('ok', o.ok)}
${
  rows.length
    ? html`<table class="silences"><thead><tr><th scope="col">${w('silence_match')}</th><th scope="col">${w('silence_starts')}</th><th scope="col">${w('silence_ends')}</th><th scope="col">${w('silence_comment')}</th><th scope="col">${w('col_by')}</th><th scope="col">${i.t('col_actions')}</th></tr></thead>
<tbody>${rows.map(
        (
          s,
        ) => html`<tr data-silence="${s.id}"><td>${matchText(s.match as SilenceMatch, s.org)}</td><td>${s.startsAt.getTime() > now ? html`${w('col_planned')}: ` : ''}${i.time(s.startsAt)}</td><td>${i.time(s.endsAt)}</td><td>${s.comment}</td><td>${s.createdBy}</td>
<td><form method="post" action="/silences/${encodeURIComponent(s.id)}/end" class="inline"><input type="hidden" name="_csrf" value="${v.session?.csrf}"><button type="submit">${w('silence_end')}</button></form></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">${w('silences_empty')}</p>`
}
<h2 id="new-silence">${w('silences_new')}</h2>
${f.fromAlarm ? html`<p class="muted">${w('silence_for_alarm', { id: f.fromAlarm })}</p>` : ''}
${issues.length ? html`<p class="msg msg-error" role="alert">${w('form_errors')}</p>` : ''}
<div class="rule-layout"><form method="post" action="/silences" class="rule-form" novalidate aria-labelledby="new-silence">
<input type="hidden" name="_csrf" value="${v.session?.csrf}"><input type="hidden" name="alarm" value="${f.fromAlarm}">
<fieldset${issues.some((x) => x.path === 'match') ? html` class="has-error"` : ''}><legend>${w('silence_match')}</legend><p class="help">${w('silence_match_help')}</p>${err('match')}
<p><strong>${w('silence_stations')}</strong></p><div class="station-picks">${devicesOf(org).map(
      (x) =>
        html`<label><input type="checkbox" name="deviceIds" value="${x.id}"${f.deviceIds.includes(x.id) ? html` checked` : ''}> ${x.name} <span class="muted">(${x.id})</span></label>`,
    )}</div>
<p><strong>${w('silence_rules')}</strong></p><div class="station-picks">${rulesOf(org).map(
      (r) => html`<label><input type="checkbox" name="ruleIds" value="${r.id}"${f.ruleIds.includes(r.id) ? html` checked` : ''}> ${r.name}</label>`,
    )}</div>
<label for="s-tags">${w('silence_tags')}</label><textarea id="s-tags" name="tags" rows="2"${inv('match.tags')}>${f.tags}</textarea>${err('match.tags')}
</fieldset>
<div class="cols">
<div class="field"><label for="s-startsAt">${w('silence_starts')}</label><input id="s-startsAt" type="datetime-local" name="startsAt" value="${f.startsAt}"${inv('startsAt')}>${err('startsAt')}</div>
<div class="field"><label for="s-endsAt">${w('silence_ends')}</label><input id="s-endsAt" type="datetime-local" name="endsAt" value="${f.endsAt}"${inv('endsAt')}>${err('endsAt')}</div>
</div>
<div class="field"><label for="s-comment">${w('silence_comment')}</label><textarea id="s-comment" name="comment" rows="2" maxlength="1000" aria-describedby="s-comment-help">${f.comment}</textarea>
<p class="help" id="s-comment-help">${w('silence_comment_help')}</p>${err('comment')}</div>
<p class="actions"><button type="submit" name="action" value="preview">${w('silence_preview')}</button><button type="submit" name="action" value="save" class="primary">${w('silence_create')}</button></p>
</form>${o.preview ? html`<div>${o.preview}</div>` : ''}</div></section>`;
    return layout(v, { title: w('silences_title'), page: 'silences', body, ...ASSETS });
  };

  const previewOf = async (req: FastifyRequest, match: SilenceMatch, org: string): Promise<Html> => {
    const { i } = view(req);
    const w = rt(i);
    const h = await held(match, org);
    return html`<section class="preview" id="preview" aria-labelledby="sp-h"><h2 id="sp-h">${w('silence_preview_title')}</h2>
<p class="summary"><strong>${h.alarms.length ? w('silence_holds', { a: h.alarms.length, s: new Set(h.alarms.map((a) => a.deviceId)).size }) : w('silence_holds_none', { s: h.stations.length })}</strong></p>
${h.alarms.length ? html`<ul class="held-alarms">${h.alarms.map((a) => html`<li data-alarm="${a.id}"><a href="/alarms/${a.id}"><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span> ${a.ruleName} – ${ctx.devices.get(a.deviceId)?.name ?? a.deviceId}</a></li>`)}</ul>` : ''}
${h.stations.length ? html`<p class="muted">${i.t('col_station')}: ${h.stations.map((x) => x.name).join(', ')}</p>` : ''}</section>`;
  };

  app.get('/silences', async (req, reply) => {
    const p = needUser(req, 'silences:write');
    const q = req.query as Record<string, string | undefined>;
    const now = svc().now();
    const f: SilenceForm = { deviceIds: [], ruleIds: [], tags: '', startsAt: berlinLocal(now), endsAt: berlinLocal(now + 2 * H), comment: '', fromAlarm: '' };
    let preview: Html | undefined;
    if (q.alarm && /^\d{1,18}$/.test(q.alarm)) {
      const a = await svc().get(q.alarm);
      if (!a || !sees(p, a.org)) throw new WebNotFound();
      Object.assign(f, { deviceIds: [a.deviceId], ruleIds: [a.ruleId], fromAlarm: a.id });
      preview = await previewOf(req, { deviceIds: [a.deviceId], ruleIds: [a.ruleId] }, a.org);
    }
    const ok = q.ok === 'created' ? rt(req.web.i)('silence_created') : q.ok === 'ended' ? rt(req.web.i)('silence_ended') : undefined;
    return sendHtml(reply, await page(req, p, f, { preview, ok }));
  });

  app.post('/silences', async (req, reply) => {
    const p = needUser(req, 'silences:write');
    checkCsrf(req);
    const b = req.body as Record<string, unknown>;
    const f: SilenceForm = {
      deviceIds: list(b.deviceIds),
      ruleIds: list(b.ruleIds),
      tags: field(b, 'tags'),
      startsAt: field(b, 'startsAt'),
      endsAt: field(b, 'endsAt'),
      comment: field(b, 'comment'),
      fromAlarm: /^\d{1,18}$/.test(field(b, 'alarm')) ? field(b, 'alarm') : '',
    };
    const org = orgOf(p);
    const w = rt(req.web.i);
    const t = parseTags(f.tags, 'match.tags');
    const issues = [...t.issues];
    const starts = berlinTime(f.startsAt);
    const ends = berlinTime(f.endsAt);
    if (starts === undefined) issues.push({ path: 'startsAt', message: w('bad_time') });
    if (ends === undefined) issues.push({ path: 'endsAt', message: w('bad_time') });
    // only the municipality's own stations and rules can be named
    const own = new Set([...devicesOf(org).map((x) => x.id), ...rulesOf(org).map((r) => r.id)]);
    const input = {
      match: {
        ...(f.deviceIds.length && { deviceIds: f.deviceIds.filter((x) => own.has(x)) }),
        ...(f.ruleIds.length && { ruleIds: f.ruleIds.filter((x) => own.has(x)) }),
        ...(Object.keys(t.tags).length && { tags: t.tags }),
      },
      // a start a moment ago is "now" (the form was filled in a minute ago)
      startsAt: starts !== undefined ? new Date(Math.max(starts, svc().now())).toISOString() : undefined,
      endsAt: ends !== undefined ? new Date(ends).toISOString() : '',
      comment: f.comment,
    };
    const parsed = silenceBody.safeParse(input);
    if (!parsed.success)
      for (const x of parsed.error.issues) {
        const path = x.path.map(String).join('.');
        if (!issues.some((y) => y.path === path)) issues.push({ path, message: x.message });
      }
    if (issues.length || !parsed.success) return sendHtml(reply, await page(req, p, f, { issues }), 400);
    if (field(b, 'action') !== 'save') return sendHtml(reply, await page(req, p, f, { preview: await previewOf(req, parsed.data.match, org) }));
    const s = {
      id: newId('sil'),
      match: parsed.data.match,
      startsAt: new Date(parsed.data.startsAt ?? svc().now()),
      endsAt: new Date(parsed.data.endsAt),
      comment: parsed.data.comment,
      createdBy: `web:${p.session.user.login}`,
      org,
    };
    await createSilence(ctx.db, s, parsed.data);
    return reply.redirect('/silences?ok=created', 303);
  });

  app.post('/silences/:id/end', async (req, reply) => {
    const p = needUser(req, 'silences:write');
    checkCsrf(req);
    const id = (req.params as { id: string }).id;
    if (!(await cancelSilence(ctx.db, id, new Date(svc().now()), p.org, `web:${p.session.user.login}`))) throw new WebNotFound();
    return reply.redirect('/silences?ok=ended', 303);
  });
}
