// Devices: register, list, change, delete. [docs/api.md Devices]
import { audit } from '../../audit.ts';
import { normEui } from '../../devices/device-registry.ts';
import { deviceBody, euiTaken, registerDevice } from '../../devices/device-service.ts';
import { deviceStatus } from '../../devices/device-status.ts';
import { actor, assertOrg, need, orgFor, sees } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam } from '../schemas.ts';

export const deviceRoutes: ApiRoutes = async (app, { ctx }) => {
  app.post('', { schema: { tags: ['devices'], body: deviceBody } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    const d = await registerDevice(ctx, p, actor(p), req.body);
    return reply.code(201).send(d);
  });

  app.get('', { schema: { tags: ['devices'] } }, async (req) => {
    const p = need(req, 'read');
    return { items: ctx.devices.list().filter((d) => sees(p, d.org)) };
  });

  app.get('/:id', { schema: { tags: ['devices'], params: idParam } }, async (req) => {
    const p = need(req, 'read');
    const d = ctx.devices.get(req.params.id);
    if (!d) throw notFound('device', req.params.id);
    assertOrg(p, d.org, 'device', req.params.id);
    return { ...d, ...(await deviceStatus(ctx.db, d.id)) };
  });

  app.patch('/:id', { schema: { tags: ['devices'], params: idParam, body: deviceBody.omit({ id: true }).partial() } }, async (req) => {
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
  });

  app.delete('/:id', { schema: { tags: ['devices'], params: idParam } }, async (req, reply) => {
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
  });
};
