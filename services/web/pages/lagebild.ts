// Lagebild (`/`): the station map beside the alarm board, live over Server-Sent Events.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Alarm, SEVERITIES } from '../../../alerts/types.ts';
import { allowed } from '../../auth/roles.ts';
import { stationsJson } from '../console-schemas.ts';
import { needUser, sendHtml, view, type WebDeps } from '../context.ts';
import { type Html, html, jsonBlock } from '../html.ts';
import type { I18n } from '../i18n.ts';
import { layout, type View } from '../layout.ts';
import { type BoardFilters, boardAlarms, openAlarms, outlines, parseFilters, stations } from '../situation.ts';

export function valueText(i: I18n, a: Pick<Alarm, 'value' | 'threshold' | 'unit' | 'window'>): string {
  if (a.unit === 's') return `${i.t('no_data_since', { n: i.duration(a.value * 1000) })} / ${i.duration(a.threshold * 1000)}`;
  const w = a.window ? ` ${i.t('in_window', { w: a.window })}` : '';
  return `${i.num(a.value)} ${a.unit}${w} / ${i.num(a.threshold)} ${a.unit}`;
}

export function ackForm(v: View, a: Alarm, back: string, withComment = false): Html {
  const { t } = v.i;
  return html`<form method="post" action="/alarms/${a.id}/ack" class="ack-form" data-ack="${a.id}">
<input type="hidden" name="_csrf" value="${v.session?.csrf}"><input type="hidden" name="back" value="${back}">
${withComment ? html`<label for="comment-${a.id}">${t('ack_comment')}</label><input id="comment-${a.id}" name="comment" maxlength="1000">` : ''}
<button type="submit" aria-label="${t('ack')}: ${a.ruleName} – ${a.deviceId}">${t('ack')}</button></form>`;
}

export function boardTable(v: View, alarms: Alarm[], nameOf: (id: string) => string, canAck: boolean, now: number): Html {
  const { i } = v;
  const { t } = i;
  if (!alarms.length) return html`<p class="muted" id="board-empty">${t('board_empty')}</p>`;
  return html`<p class="visually-hidden" role="status">${t('board_count', { n: alarms.length })}</p>
<table>
<thead><tr><th scope="col">${t('col_severity')}</th><th scope="col">${t('col_station')} / ${t('col_rule')}</th><th scope="col">${t('col_value')}</th><th scope="col">${t('col_running')}</th><th scope="col">${t('col_state')}</th><th scope="col">${t('col_actions')}</th></tr></thead>
<tbody>
${alarms.map(
  (a) => html`<tr class="state-${a.state}" data-alarm="${a.id}" data-device="${a.deviceId}" data-severity="${a.severity}">
<td data-label="${t('col_severity')}"><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span></td>
<td data-label="${t('col_station')}"><a class="station-label" href="/stations/${encodeURIComponent(a.deviceId)}">${nameOf(a.deviceId)}</a><br><a href="/alarms/${a.id}">${a.ruleName}</a></td>
<td data-label="${t('col_value')}">${valueText(i, a)}</td>
<td data-label="${t('col_running')}" class="num" data-since="${a.startedAt}">${i.duration(now - Date.parse(a.startedAt))}</td>
<td data-label="${t('col_state')}"><span class="state">${t(a.state === 'firing' ? 'state_firing' : a.state === 'acknowledged' ? 'state_acknowledged' : 'state_resolved')}</span>${
    a.acknowledgedBy ? html`<br><span class="acked-by muted">${a.acknowledgedBy}, ${i.time(a.acknowledgedAt)}</span>` : ''
  }</td>
<td data-label="${t('col_actions')}">${canAck && a.state === 'firing' ? ackForm(v, a, v.url) : html`<a href="/alarms/${a.id}">${t('details')}</a>`}</td>
</tr>`,
)}
</tbody>
</table>`;
}

function filtersForm(v: View, f: BoardFilters, orgs: string[] | null): Html {
  const { i } = v;
  const { t } = i;
  return html`<form method="get" action="/" class="filters" id="filters">
${v.wall ? html`<input type="hidden" name="wall" value="1">` : ''}
${
  orgs
    ? html`<label>${t('filter_org')}<select name="org"><option value="">${t('filter_all')}</option>${orgs.map((o) => html`<option value="${o}" ${o === f.org ? 'selected' : ''}>${o}</option>`)}</select></label>`
    : ''
}
<label>${t('filter_severity')}<select name="severity"><option value="">${t('filter_all')}</option>${SEVERITIES.map((s) => html`<option value="${s}" ${s === f.severity ? 'selected' : ''}>${i.sev(s)}</option>`)}</select></label>
<label>${t('filter_state')}<select name="state">${(['active', 'firing', 'acknowledged'] as const).map((s) => html`<option value="${s}" ${s === f.state ? 'selected' : ''}>${t(s === 'active' ? 'filter_active' : s === 'firing' ? 'state_firing' : 'state_acknowledged')}</option>`)}</select></label>
<button type="submit">${t('filter_apply')}</button>
</form>`;
}

function legend(i: I18n): Html {
  const item = (cls: string, label: string) => html`<li><span class="dot sev-${cls}" aria-hidden="true"></span>${label}</li>`;
  return html`<ul class="legend" aria-label="${i.t('legend')}">${item('ok', i.t('status_ok'))}${SEVERITIES.map((s) => item(s, i.sev(s)))}${item('offline', i.t('status_offline'))}</ul>`;
}

export async function lagebildPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const nameOf = (id: string) => ctx.devices.get(id)?.name ?? id;
  const orgOf = (id: string) => ctx.devices.get(id)?.org;
  const boardPath = (req: FastifyRequest) => `/${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`;

  async function data(req: FastifyRequest) {
    const p = needUser(req);
    const f = parseFilters(req.query as Record<string, string>);
    const alarms = await openAlarms(d, p);
    const now = Date.now();
    const st = await stations(d, p, f.org, alarms, now);
    return { p, f, alarms, st, now, board: boardAlarms(alarms, f, orgOf) };
  }

  // The live refresh: every open page fetches /board and /stations.json after each alarm change. Their
  // answers are kept for CACHE_MS per municipality, role, language and filters (and dropped at the next
  // alarm change), so 200 pages refreshing after one change cost one render, not 200. The session's CSRF
  // token is put into the cached board per request.
  const CACHE_MS = 1000;
  const CSRF_SLOT = 'rw-csrf-slot';
  const cache = new Map<string, { gen: number; at: number; body: Promise<string> }>();
  function cached(key: string, make: () => Promise<string>): Promise<string> {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.gen === d.feed.generation && now - hit.at < CACHE_MS) return hit.body;
    if (cache.size > 200) for (const [k, e] of cache) if (e.gen !== d.feed.generation || now - e.at >= CACHE_MS) cache.delete(k);
    const entry = { gen: d.feed.generation, at: now, body: make() };
    cache.set(key, entry);
    entry.body.catch(() => cache.get(key) === entry && cache.delete(key));
    return entry.body;
  }
  // a station added, moved or renamed is on the next refresh, not a second later
  ctx.devices.onChange(() => cache.clear());
  const cacheKey = (req: FastifyRequest, what: string) => {
    const p = needUser(req);
    return `${what}|${p.org ?? '*'}|${p.role}|${req.web.i.lang}|${req.web.wall}|${req.url}`;
  };

  app.get('/', async (req, reply) => {
    const { p, f, st, now, board } = await data(req);
    const v = view(req);
    const { i } = v;
    const { t } = i;
    const orgs = p.org === null ? [...new Set(ctx.devices.list().map((x) => x.org))].sort() : null;
    const tiles = ctx.config.mapTiles;
    const body = html`<div class="situation">
<section class="map-wrap" aria-labelledby="map-h">
  <h1 id="map-h" class="visually-hidden">${t('map_title')}</h1>
  <div id="map" role="region" aria-label="${t('map_title')}"></div>
  ${tiles.url ? '' : html`<p class="muted">${t('map_no_tiles')}</p>`}
  ${legend(i)}
</section>
<section class="board" aria-labelledby="board-h">
  <div class="board-head">
    <h2 id="board-h">${t('board_title')}</h2>
    <span><span id="live" class="live off" role="status">${t('live_lost')}</span>
    <button type="button" id="mute" aria-pressed="false">${t('mute')}</button></span>
  </div>
  ${filtersForm(v, f, orgs)}
  <div id="board">${boardTable(v, board, nameOf, allowed(p.role, 'alarms:ack'), now)}</div>
</section>
</div>
${jsonBlock('lagebild-data', {
  stations: st,
  outlines: outlines(st),
  tiles: tiles.url ? { url: tiles.url, attribution: tiles.attribution } : null,
  words: {
    status: {
      ok: t('status_ok'),
      offline: t('status_offline'),
      minor: i.sev('minor'),
      moderate: i.sev('moderate'),
      severe: i.sev('severe'),
      extreme: i.sev('extreme'),
    },
    lastSeen: t('station_last_seen'),
    never: t('station_never'),
    details: t('details'),
    live: t('live_connected'),
    lost: t('live_lost'),
    mute: t('mute'),
    unmute: t('unmute'),
    newAlarm: t('new_alarm'),
    lang: i.lang,
    min: t('duration_min', { n: '{n}' }),
    h: t('duration_h', { n: '{n}' }),
    d: t('duration_d', { n: '{n}' }),
  },
})}`;
    return sendHtml(
      reply,
      layout(v, {
        title: t('nav_situation'),
        page: 'lagebild',
        body,
        styles: ['/assets/leaflet/leaflet.css'],
        scripts: ['/assets/leaflet/leaflet.js', '/assets/app/lagebild.js'],
      }),
    );
  });

  /** the board alone, for the live refresh (same filters as the page) */
  app.get('/board', async (req, reply) => {
    const own = view(req);
    const body = await cached(cacheKey(req, 'board'), async () => {
      const { p, board, now } = await data(req);
      const v = { ...own, url: boardPath(req), session: own.session && { ...own.session, csrf: CSRF_SLOT } };
      return boardTable(v, board, nameOf, allowed(p.role, 'alarms:ack'), now).value;
    });
    return reply.type('text/html; charset=utf-8').send(body.replaceAll(CSRF_SLOT, own.session?.csrf ?? ''));
  });

  // the cached body is sent as it was serialised; the schema names its shape
  app.get('/stations.json', { schema: { response: { 200: stationsJson } } }, async (req, reply) => {
    const body = await cached(cacheKey(req, 'stations'), async () => JSON.stringify({ stations: (await data(req)).st }));
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
