// Devices: register, list, change, delete. [docs/api.md Devices]

import { z } from 'zod';
import { audit } from '../../audit-store.ts';
import { normEui } from '../../devices/device-registry.ts';
import { deviceBody, deviceParams, euiTaken, registerDevice } from '../../devices/device-service.ts';
import { deviceStatus } from '../../devices/device-status.ts';
import { actor, assertOrg, need, orgFor, sees } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, itemsOf, noContent, responses } from '../schemas.ts';

/** A device as answered (services/devices/device-registry.ts Device). */
const device = z.object({
  id: z.string(),
  name: z.string(),
  model: z.string(),
  devEui: z.string().nullable(),
  location: z.object({ lat: z.number(), lon: z.number() }).nullable(),
  params: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  org: z.string(),
  public: z.boolean().nullable().optional().describe('open data: true/false, or null to follow the municipality'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const deviceWithStatus = device.extend({
  clockSkew: z
    .object({ seconds: z.number(), at: z.string() })
    .nullable()
    .describe('device − receive time as last seen beyond the tolerance (negative = behind); null when never'),
  warnings: z.array(z.unknown()).describe('e.g. stuck_bucket'),
});
const example = {
  id: 'gauge-01',
  name: 'Regenschreiber Gießen-Nord',
  model: 'dragino-ldds75',
  devEui: 'A84041000181C61A',
  location: { lat: 50.58, lon: 8.67 },
  params: { mountHeightMm: 3000, levelOffsetCm: 0 },
  tags: { river: 'lahn' },
};

export const deviceRoutes: ApiRoutes = async (app, { ctx }) => {
  app.post(
    '',
    {
      schema: {
        tags: ['devices'],
        summary: 'Register a device',
        body: deviceBody.meta({ examples: [example] }),
        response: responses({ 201: device }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'devices:write');
      const d = await registerDevice(ctx, p, actor(p), req.body);
      return reply.code(201).send(d);
    },
  );

  app.get('', { schema: { tags: ['devices'], summary: 'List devices', response: responses({ 200: itemsOf(device) }) } }, async (req) => {
    const p = need(req, 'read');
    return { items: ctx.devices.list().filter((d) => sees(p, d.org)) };
  });

  app.get(
    '/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'One device with its clock offset and warnings',
        params: idParam,
        response: responses({ 200: deviceWithStatus }),
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const d = ctx.devices.get(req.params.id);
      if (!d) throw notFound('device', req.params.id);
      assertOrg(p, d.org, 'device', req.params.id);
      return { ...d, ...(await deviceStatus(ctx.db, d.id)) };
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Change a device (only the fields given)',
        params: idParam,
        // without the create defaults: a field not given stays as it is (tags were reset to {} before)
        body: deviceBody
          .omit({ id: true })
          .extend({ params: deviceParams.optional(), tags: z.record(z.string(), z.string()).optional() })
          .partial(),
        response: responses({ 200: device }),
      },
    },
    async (req) => {
      const p = need(req, 'devices:write');
      const b = req.body;
      const cur = ctx.devices.get(req.params.id);
      if (!cur) throw notFound('device', req.params.id);
      assertOrg(p, cur.org, 'device', req.params.id);
      const org = orgFor(p, b.org, cur.org);
      const devEui = b.devEui ? normEui(b.devEui) : undefined;
      if (devEui) {
        const other = ctx.devices.getByEui(devEui);
        if (other && other.id !== req.params.id) throw euiTaken(devEui, sees(p, other.org) ? other.id : undefined);
      }
      const d = await ctx.devices.update(req.params.id, { ...b, org, ...(devEui ? { devEui } : {}) } as never, (tx) =>
        audit(tx, actor(p), 'update', 'device', req.params.id, b),
      );
      if (!d) throw notFound('device', req.params.id);
      return d;
    },
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Delete a device; its open alarms are closed (never an all-clear)',
        params: idParam,
        response: responses({ 204: noContent }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'devices:write');
      assertOrg(p, ctx.devices.get(req.params.id)?.org, 'device', req.params.id);
      let closed: Awaited<ReturnType<NonNullable<typeof ctx.alarms>['closeForDevice']>> = [];
      const ok = await ctx.devices.remove(req.params.id, async (tx) => {
        // its open alarms end with the device (closed, never an all-clear), while its name is still known [docs/api.md Alarms]
        closed = (await ctx.alarms?.closeForDevice(tx, req.params.id)) ?? [];
        await audit(tx, actor(p), 'delete', 'device', req.params.id);
      });
      ctx.alarms?.afterClose(closed);
      if (!ok) throw notFound('device', req.params.id);
      return reply.code(204).send();
    },
  );
};
