// Catchments (Einzugsgebiete) for operators: the list, and a form to define one as a GeoJSON polygon (pasted or
// read from a file) or as a circle around stations. Each gets the virtual device catchment-<id> that carries the
// DWD radar nowcast over it. Same rules as POST /api/v1/catchments. [docs/dwd.md Catchments]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sees } from '../../api/auth.ts';
import { DEFAULT_ORG } from '../../auth/orgs.ts';
import { CatchmentError, nowcastDeviceId, saveCatchment } from '../../dwd/catchment-service.ts';
import { type Catchment, CatchmentStore } from '../../dwd/catchment-store.ts';
import { setOrgWarncell, warncellIdSchema, warncellOf } from '../../dwd/warncell-service.ts';
import { getOpenData } from '../../opendata/open-data-settings.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps } from '../context.ts';
import { inputField } from '../form.ts';
import { html } from '../html.ts';
import { ct } from '../i18n/catchments.ts';
import { layout, message } from '../layout.ts';

const ASSETS = { styles: ['/assets/app/rules.css'], scripts: ['/assets/app/catchments.js'] };
type Principal = ReturnType<typeof needUser>;

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);

type Geometry = Catchment['geometry'];
const isPos = (p: unknown): p is [number, number] =>
  Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number' && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90;
const isRing = (r: unknown): r is [number, number][] => Array.isArray(r) && r.length >= 4 && r.length <= 10_000 && r.every(isPos);

/** A Polygon/MultiPolygon from pasted GeoJSON (a bare geometry, a Feature, or the first polygon of a FeatureCollection). */
export function geometryOf(text: string): Geometry {
  let g: any;
  try {
    g = JSON.parse(text);
  } catch {
    throw new CatchmentError('not valid JSON');
  }
  if (g?.type === 'FeatureCollection') g = g.features?.find((f: any) => f?.geometry?.type === 'Polygon' || f?.geometry?.type === 'MultiPolygon');
  if (g?.type === 'Feature') g = g.geometry;
  if (g?.type === 'Polygon' && Array.isArray(g.coordinates) && g.coordinates.length >= 1 && g.coordinates.every(isRing))
    return { type: 'Polygon', coordinates: g.coordinates.map((r: number[][]) => r.map((p) => [p[0], p[1]])) };
  if (
    g?.type === 'MultiPolygon' &&
    Array.isArray(g.coordinates) &&
    g.coordinates.length >= 1 &&
    g.coordinates.every((poly: unknown) => Array.isArray(poly) && poly.length >= 1 && poly.every(isRing))
  )
    return { type: 'MultiPolygon', coordinates: g.coordinates.map((poly: number[][][]) => poly.map((r) => r.map((p) => [p[0], p[1]]))) };
  throw new CatchmentError('a Polygon or MultiPolygon is needed: closed rings of at least 4 [lon, lat] positions');
}

/** The DWD's list of warncells (id, name, short name; semicolon-separated CSV). [docs/reference/dwd-inputs.md 1.2] */
export const DWD_WARNCELL_LIST = 'https://www.dwd.de/DE/leistungen/opendata/help/warnungen/cap_warncellids_csv.csv';

export async function catchmentPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const store = new CatchmentStore(ctx.db);
  const orgOf = (p: Principal) => p.org ?? DEFAULT_ORG;
  /** the municipality by its name (the open-data publisher, e.g. "Stadt Wetzlar"), not its id; "Ihre Gemeinde" for the only one */
  const orgLabel = async (org: string, w: ReturnType<typeof ct>) => (await getOpenData(ctx.db, org)).publisher || (org === DEFAULT_ORG ? w('wc_you') : org);

  type Warncell = { ok?: string; error?: string; value?: string };
  const page = async (req: FastifyRequest, p: Principal, o: { ok?: string; error?: string; form?: Record<string, unknown>; wc?: Warncell } = {}) => {
    const v = view(req);
    const w = ct(v.i);
    const items = (await store.list(p.org)).filter((c) => sees(p, c.org));
    const stations = ctx.devices.list().filter((x) => x.org === orgOf(p) && x.model !== 'dwd-nowcast' && x.model !== 'dwd-warnings');
    const f = o.form ?? {};
    const val = (k: string, def = '') => (typeof f[k] === 'string' ? (f[k] as string) : def);
    const picked = list(f.deviceIds);
    const byCircle = val('shape', 'polygon') === 'circle';
    const wc = o.wc ?? {};
    const org = await orgLabel(orgOf(p), w);
    const warncell = html`<div class="warncell"><h2 id="dwd-warnings">${w('wc_title')}</h2>
<p class="muted">${w('wc_intro')}</p>
<form method="post" action="/catchments/warncell" class="rule-form" novalidate aria-labelledby="dwd-warnings">
<input type="hidden" name="_csrf" value="${v.session?.csrf}">${message('ok', wc.ok)}
${inputField({
  name: 'warncellId',
  label: w('wc_id', { org }),
  value: wc.value ?? (await warncellOf(ctx, orgOf(p))) ?? '',
  error: wc.error,
  help: w('wc_help'),
  prefix: 'wc',
  attrs: [
    ['inputmode', 'numeric'],
    ['maxlength', '9'],
  ],
})}
<p class="help"><a href="${DWD_WARNCELL_LIST}" rel="noopener noreferrer">${w('wc_list')}</a></p>
<p class="actions"><button type="submit">${w('wc_save')}</button></p>
</form></div>`;
    const rows = items.map(
      (
        c,
      ) => html`<tr data-catchment="${c.id}"><td>${c.name} <span class="muted">(${c.id})</span>${c.org !== orgOf(p) ? html` <span class="muted">· ${c.org}</span>` : ''}</td>
<td>${c.deviceIds.join(', ') || '–'}</td><td class="num">${c.bufferM / 1000} km</td><td class="num">${c.thresholdMm} mm</td>
<td><a href="/devices/${encodeURIComponent(nowcastDeviceId(c.id))}">${nowcastDeviceId(c.id)}</a></td></tr>`,
    );
    const body = html`<section><h1>${w('title')}</h1><p class="muted">${w('help')}</p>${message('ok', o.ok)}${message('error', o.error)}
${
  rows.length
    ? html`<div class="table-wrap"><table class="catchments"><thead><tr><th scope="col">${w('col_name')}</th><th scope="col">${w('col_stations')}</th><th scope="col">${w('col_buffer')}</th><th scope="col">${w('col_threshold')}</th><th scope="col">${w('col_device')}</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">${w('empty')}</p>`
}
${warncell}
<h2 id="new-catchment">${w('new')}</h2>
<form method="post" action="/catchments" class="rule-form" novalidate aria-labelledby="new-catchment">
<input type="hidden" name="_csrf" value="${v.session?.csrf}">
<div class="cols">
<div class="field"><label for="c-id">${w('id')}</label><input id="c-id" name="id" required pattern="[a-z0-9-]{1,50}" value="${val('id')}"></div>
<div class="field"><label for="c-name">${w('name')}</label><input id="c-name" name="name" required maxlength="200" value="${val('name')}"></div>
</div>
<fieldset><legend>${w('shape')}</legend>
<label><input type="radio" name="shape" value="polygon"${byCircle ? '' : html` checked`}> ${w('by_polygon')}</label>
<label><input type="radio" name="shape" value="circle"${byCircle ? html` checked` : ''}> ${w('by_circle')}</label>
<div class="field"><label for="c-geojson">${w('geojson')}</label><textarea id="c-geojson" name="geojson" rows="6" spellcheck="false">${val('geojson')}</textarea>
<label for="c-file">${w('geojson_file')}</label> <input id="c-file" type="file" accept=".geojson,.json,application/geo+json,application/json" data-into="c-geojson" data-too-big="${w('file_too_big')}"></div>
<div class="field"><label for="c-radius">${w('radius')}</label><input id="c-radius" name="radiusM" type="number" min="100" max="50000" step="100" value="${val('radiusM', '3000')}"></div>
</fieldset>
<p><strong>${w('stations')}</strong></p><div class="station-picks">${stations.map(
      (x) =>
        html`<label><input type="checkbox" name="deviceIds" value="${x.id}"${picked.includes(x.id) ? html` checked` : ''}> ${x.name} <span class="muted">(${x.id})</span></label>`,
    )}</div>
<div class="cols">
<div class="field"><label for="c-buffer">${w('buffer')}</label><input id="c-buffer" name="bufferKm" type="number" min="0" max="20" step="0.1" value="${val('bufferKm', '1')}"></div>
<div class="field"><label for="c-threshold">${w('threshold')}</label><input id="c-threshold" name="thresholdMm" type="number" min="0.1" max="500" step="0.1" value="${val('thresholdMm', '20')}"></div>
</div>
<p class="actions"><button type="submit" class="primary">${w('save')}</button></p>
</form></section>`;
    return layout(v, { title: w('title'), page: 'catchments', body, ...ASSETS });
  };

  app.get('/catchments', async (req, reply) => sendHtml(reply, await page(req, needUser(req, 'rules:write'))));

  // the same service as PUT /api/v1/orgs/{org}: same check, same audit entry, the warning feed follows
  app.post('/catchments/warncell', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    checkCsrf(req);
    const w = ct(req.web.i);
    const value = field(req.body, 'warncellId').trim();
    if (value !== '' && !warncellIdSchema.safeParse(value).success) return sendHtml(reply, await page(req, p, { wc: { value, error: w('wc_bad') } }), 400);
    const org = orgOf(p);
    const now = await setOrgWarncell(ctx, `web:${p.session.user.login}`, org, value === '' ? null : value);
    req.log.info({ org, warncellId: now }, 'DWD warncell set from the console');
    const name = await orgLabel(org, w);
    return sendHtml(reply, await page(req, p, { wc: { ok: now ? w('wc_saved', { org: name, id: now }) : w('wc_cleared', { org: name }) } }));
  });

  app.post('/catchments', async (req, reply) => {
    const p = needUser(req, 'rules:write');
    checkCsrf(req);
    const w = ct(req.web.i);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const num = (k: string, what: string, min: number, max: number) => {
      const n = Number(field(b, k));
      if (field(b, k).trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new CatchmentError(w('bad_number', { what }));
      return n;
    };
    try {
      const id = field(b, 'id').trim();
      const name = field(b, 'name').trim();
      if (!/^[a-z0-9-]{1,50}$/.test(id)) throw new CatchmentError(w('bad_id'));
      if (!name || name.length > 200) throw new CatchmentError(w('bad_name'));
      const deviceIds = list(b.deviceIds).slice(0, 100);
      const bufferM = Math.round(num('bufferKm', w('buffer'), 0, 20) * 1000);
      const thresholdMm = num('thresholdMm', w('threshold'), 0.1, 500);
      let shape: { geometry: Geometry } | { circle: { deviceIds: string[]; radiusM: number } };
      if (field(b, 'shape') === 'circle') {
        if (!deviceIds.length) throw new CatchmentError(w('no_stations'));
        shape = { circle: { deviceIds, radiusM: num('radiusM', w('radius'), 100, 50_000) } };
      } else {
        try {
          shape = { geometry: geometryOf(field(b, 'geojson')) };
        } catch (e) {
          throw new CatchmentError(w('bad_geojson', { why: (e as Error).message }));
        }
      }
      const c = await saveCatchment({ id, name, org: orgOf(p), bufferM, thresholdMm, deviceIds, ...shape }, store, ctx.devices);
      ctx.dwd?.nowcast?.reload();
      req.log.info({ catchmentId: c.id, org: c.org }, 'catchment saved from the console');
      return sendHtml(reply, await page(req, p, { ok: w('saved', { id: c.id, dev: nowcastDeviceId(c.id) }) }));
    } catch (e) {
      if (!(e instanceof CatchmentError)) throw e;
      return sendHtml(reply, await page(req, p, { error: e.message, form: b }), 400);
    }
  });
}
