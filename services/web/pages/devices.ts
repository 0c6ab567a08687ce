// Devices for operators and integrators, one module per page (devices/): the list with each device's health,
// the register form, a device's page with the test-decode box, and its live view over SSE; MQTT credentials
// and codecs are in access.ts. Everything goes through the same services as the JSON API. [issue 14]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sees } from '../../api/auth.ts';
import type { Principal } from '../../auth/token-store.ts';
import type { Device } from '../../devices/device-registry.ts';
import { type WebDeps, WebNotFound } from '../context.ts';
import { accessPages } from './access.ts';
import { detailPages } from './devices/detail.ts';
import { listPage } from './devices/list.ts';
import { livePages } from './devices/live.ts';
import { registerPages } from './devices/register.ts';

export async function devicePages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  await accessPages(app, d);

  const visibleDevice = (req: FastifyRequest, p: Principal): Device => {
    const dev = ctx.devices.get((req.params as { id: string }).id);
    // another municipality's device answers like one that does not exist
    if (!dev || !sees(p, dev.org)) throw new WebNotFound();
    return dev;
  };

  listPage(app, d);
  registerPages(app, d);
  detailPages(app, d, visibleDevice);
  livePages(app, d, visibleDevice);
}
