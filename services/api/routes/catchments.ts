// Catchments (Einzugsgebiete): polygons or circles around stations, per municipality; the radar nowcast is
// computed for each. [docs/dwd.md Catchments]
import { z } from 'zod';
import { CatchmentError, nowcastDeviceId, saveCatchment } from '../../dwd/catchment-service.ts';
import { CatchmentStore, type Catchment as StoredCatchment } from '../../dwd/catchment-store.ts';
import { need, orgFilter, orgFor, sees } from '../auth.ts';
import { invalid, notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { noContent, responses } from '../schemas.ts';

const lonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const ring = z.array(lonLat).min(4, { error: 'a ring needs at least 4 positions (closed)' }).max(10_000);
const Geometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1).max(50) }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1).max(50)).min(1).max(50) }),
]);
const Circle = z.strictObject({ deviceIds: z.array(z.string()).min(1).max(100), radiusM: z.number().min(100).max(50_000) });
/** the buffer around the area in km (default 1 km, at most 20 km); stored in metres */
const BufferKm = z.number().min(0).max(20);
const Fields = {
  name: z.string().trim().min(1).max(200),
  // a GeoJSON Polygon/MultiPolygon (a Feature's geometry), WGS84 [lon, lat]
  geometry: Geometry,
  circle: Circle,
  bufferKm: BufferKm,
  thresholdMm: z.number().positive().max(500),
  deviceIds: z.array(z.string()).max(1000),
};
const Body = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9-]{1,50}$/, 'lowercase letters, digits and - only, at most 50'),
    name: Fields.name,
    org: z.string().optional(),
    geometry: Fields.geometry.optional(),
    circle: Fields.circle.optional(),
    bufferKm: Fields.bufferKm.default(1),
    thresholdMm: Fields.thresholdMm.default(20),
    deviceIds: Fields.deviceIds.default([]),
  })
  .refine((b) => (b.geometry === undefined) !== (b.circle === undefined), { error: 'give either geometry or circle' });
/** PATCH: any subset of the fields; a new geometry or circle replaces the area */
const Patch = z
  .strictObject({
    name: Fields.name.optional(),
    geometry: Fields.geometry.optional(),
    circle: Fields.circle.optional(),
    bufferKm: Fields.bufferKm.optional(),
    thresholdMm: Fields.thresholdMm.optional(),
    deviceIds: Fields.deviceIds.optional(),
  })
  .refine((b) => b.geometry === undefined || b.circle === undefined, { error: 'give either geometry or circle, not both' });
const Catchment = z.object({
  id: z.string(),
  org: z.string(),
  name: z.string(),
  geometry: Geometry,
  bufferKm: z.number(),
  thresholdMm: z.number(),
  deviceIds: z.array(z.string()),
  nowcastDeviceId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const toKm = (m: number) => Math.round(m) / 1000;
const toM = (km: number) => Math.round(km * 1000);
const withDevice = ({ bufferM, ...c }: StoredCatchment) => ({ ...c, bufferKm: toKm(bufferM), nowcastDeviceId: nowcastDeviceId(c.id) });
const Params = z.object({ id: z.string() });

export const catchmentRoutes: ApiRoutes = async (app, { ctx }) => {
  const store = new CatchmentStore(ctx.db);
  app.post(
    '',
    {
      schema: {
        tags: ['dwd'],
        summary: 'Define or replace a catchment (polygon or circle around stations)',
        body: Body,
        response: responses({ 201: Catchment }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'rules:write');
      try {
        const { bufferKm, ...b } = req.body;
        const c = await saveCatchment({ ...b, bufferM: toM(bufferKm), org: orgFor(p, b.org) }, store, ctx.devices);
        ctx.dwd?.nowcast?.reload();
        return reply.code(201).send(withDevice(c));
      } catch (e) {
        if (e instanceof CatchmentError) throw invalid(e.message);
        throw e;
      }
    },
  );
  app.get('', { schema: { tags: ['dwd'], summary: 'List catchments', response: responses({ 200: z.object({ items: z.array(Catchment) }) }) } }, async (req) => {
    const p = need(req, 'read');
    return { items: (await store.list(orgFilter(p))).map(withDevice) };
  });
  app.get('/:id', { schema: { tags: ['dwd'], summary: 'One catchment', params: Params, response: responses({ 200: Catchment }) } }, async (req) => {
    const p = need(req, 'read');
    const c = await store.get(req.params.id);
    if (!c || !sees(p, c.org)) throw notFound('catchment', req.params.id);
    return withDevice(c);
  });
  app.patch(
    '/:id',
    {
      schema: {
        tags: ['dwd'],
        summary: 'Change some fields of a catchment (the others stay)',
        params: Params,
        body: Patch,
        response: responses({ 200: Catchment }),
      },
    },
    async (req) => {
      const p = need(req, 'rules:write');
      const cur = await store.get(req.params.id);
      if (!cur || !sees(p, cur.org)) throw notFound('catchment', req.params.id);
      const { bufferKm, ...b } = req.body;
      try {
        const c = await saveCatchment(
          {
            id: cur.id,
            org: cur.org,
            name: b.name ?? cur.name,
            ...(b.circle ? { circle: b.circle } : { geometry: b.geometry ?? cur.geometry }),
            bufferM: bufferKm === undefined ? cur.bufferM : toM(bufferKm),
            thresholdMm: b.thresholdMm ?? cur.thresholdMm,
            deviceIds: b.deviceIds ?? cur.deviceIds,
          },
          store,
          ctx.devices,
        );
        ctx.dwd?.nowcast?.reload();
        return withDevice(c);
      } catch (e) {
        if (e instanceof CatchmentError) throw invalid(e.message);
        throw e;
      }
    },
  );
  app.delete(
    '/:id',
    { schema: { tags: ['dwd'], summary: 'Delete a catchment', params: Params, response: responses({ 204: noContent }) } },
    async (req, reply) => {
      const p = need(req, 'rules:write');
      if (!(await store.remove(req.params.id, orgFilter(p)))) throw notFound('catchment', req.params.id);
      ctx.dwd?.nowcast?.reload();
      return reply.code(204).send();
    },
  );
};
