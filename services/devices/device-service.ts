// Registering a device: the one code path behind POST /api/v1/devices and the console's register form.
// The zod schema is the form's validation too, so a field's error reads the same in JSON and next to the field.
import { z } from 'zod';
import { orgFor, sees } from '../api/auth.ts';
import { conflict } from '../api/errors.ts';
import { audit } from '../audit-store.ts';
import { orgSchema } from '../auth/orgs.ts';
import type { Principal } from '../auth/token-store.ts';
import type { AppContext } from '../context.ts';
import { validateFieldMap } from '../ingest/codecs/field-map.ts';
import { isKnownModel } from '../ingest/codecs/index.ts';
import { type Device, normEui } from './device-registry.ts';

export const deviceParams = z
  .object({
    mountHeightMm: z.number().positive().max(100_000).optional(),
    levelOffsetCm: z.number().min(-100_000).max(100_000).optional(),
    mmPerTip: z.number().positive().max(100).optional(),
    deadZoneMm: z.number().min(0).max(100_000).optional(),
    codec: z.string().optional(),
    fieldMap: z
      .record(z.string(), z.string())
      .superRefine((m, c) => {
        for (const problem of validateFieldMap(m)) c.addIssue({ code: 'custom', message: `unknown_metric: ${problem}` });
      })
      .optional(),
  })
  .catchall(z.unknown());

export const deviceBody = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits and . _ - only, at most 64'),
  name: z.string().min(1).max(200),
  model: z.string().refine(isKnownModel, 'unknown device model (see docs/topics.md, Device models: a built-in model, generic or js-codec)'),
  devEui: z
    .string()
    .regex(/^([0-9A-Fa-f]{2}[-:]?){7}[0-9A-Fa-f]{2}$/, 'devEui must be 16 hex digits')
    .optional(),
  location: z
    .object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })
    .nullable()
    .optional(),
  params: deviceParams.default({}),
  tags: z.record(z.string(), z.string()).default({}),
  /** the municipality; only an installation-wide token may choose it, else the token's own */
  org: orgSchema.optional(),
  /** open data: publish this device (true), never (false), or follow the municipality's setting (null, the default) */
  public: z.boolean().nullable().optional(),
});
export type DeviceBody = z.infer<typeof deviceBody>;

export const idTaken = (id: string) => conflict(`device id '${id}' is not available (in use, or kept by a deleted device's history); choose another`);
/** A devEui is hardware: a taken one cannot be hidden, but only a device the caller may see is named. */
export const euiTaken = (eui: string, owner?: string) => conflict(`devEui ${eui} is already registered${owner ? ` to device '${owner}'` : ''}`);

/** Registers a device for `p` (its own municipality unless installation-wide); `by` goes to the audit log. */
export async function registerDevice(ctx: Pick<AppContext, 'devices'>, p: Principal, by: string, b: DeviceBody): Promise<Device> {
  const org = orgFor(p, b.org);
  const devEui = b.devEui ? normEui(b.devEui) : null;
  // the same answer whether the id or devEui is this municipality's, another's, or a deleted device's [issue 11]
  if (!(await ctx.devices.idFree(b.id, org))) throw idTaken(b.id);
  const owner = devEui ? ctx.devices.getByEui(devEui) : undefined;
  if (devEui && owner) throw euiTaken(devEui, sees(p, owner.org) ? owner.id : undefined);
  return ctx.devices
    .create(
      { id: b.id, name: b.name, model: b.model, devEui, location: b.location ?? null, params: b.params, tags: b.tags, org, public: b.public ?? null },
      (tx) => audit(tx, by, 'create', 'device', b.id, b),
    )
    .catch((e: { code?: string; constraint?: string }) => {
      // two requests racing past the checks above
      if (e.code === '23505') throw /eui/i.test(e.constraint ?? '') && devEui ? euiTaken(devEui) : idTaken(b.id);
      throw e;
    });
}
