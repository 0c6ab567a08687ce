// The anonymous CAP 1.2 feed of a municipality's public warnings (org opt-in): the same documents as the
// operator feed (alerts/channels/cap.ts), but scope Public, only for public stations, no sensor outages, and
// nothing internal — no rule name or id, no acknowledgement state, a link to the public station instead of
// the operator API. [docs/opendata.md Public warnings]
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type CapMsgType, capAlertXml, capAtomFeed } from '../../alerts/channels/cap.ts';
import { alarmTitle, hazardOf } from '../../alerts/channels/wording.ts';
import type { Alarm } from '../../alerts/types.ts';
import { ApiError } from '../api/errors.ts';
import { orgSchema } from '../auth/orgs.ts';
import type { AppContext } from '../context.ts';
import { getOpenData } from './open-data-settings.ts';
import { cacheFor, openRateLimit } from './open-http.ts';
import { type PublicDevice, publicDevices } from './public-store.ts';

const FEED_WINDOW_MS = 24 * 3_600_000;
const notFound = (what: string) => new ApiError('NOT_FOUND', what);

/** The alarm as the public may read it. */
function publicAlarm(a: Alarm): Alarm {
  return {
    ...a,
    ruleId: '',
    ruleName: alarmTitle(a),
    state: a.state === 'acknowledged' ? 'firing' : a.state,
    acknowledgedAt: null,
    acknowledgedBy: null,
  };
}

export async function publicCapRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const config = openRateLimit(ctx.config.openDataRateLimit);
  const base = ctx.config.publicUrl;
  const sender = `regenwacht@${new URL(base).hostname}`;

  /** The org's public stations, or 404 when the municipality publishes nothing (or this process has no alarms). */
  async function stations(org: string): Promise<Map<string, PublicDevice>> {
    if (!ctx.alarms || !(await getOpenData(ctx.db, org)).enabled) throw notFound(`municipality '${org}' publishes no warnings`);
    return new Map((await publicDevices(ctx.db, org)).map((d) => [d.id, d]));
  }
  // (the org is checked by the query or orgOf; the device must be one of that org's public stations today)
  const shown = (a: Alarm, devices: Map<string, PublicDevice>) => a.mode === 'active' && devices.has(a.deviceId) && hazardOf(a) !== 'offline';

  async function capDoc(alarmId: string, device: PublicDevice) {
    const a = await ctx.alarms?.get(alarmId);
    if (!a) return undefined;
    const ev = a.events.filter((e) => e.kind !== 'acknowledged' && e.kind !== 'escalated_unacknowledged');
    const docs: { identifier: string; sent: Date; type: CapMsgType }[] = ev.map((e, i) => ({
      identifier: `urn:regenwacht:public:alarm:${a.id}:${e.id}`,
      sent: new Date(e.at ?? a.updatedAt),
      type: e.kind === 'resolved' || e.kind === 'closed' ? 'Cancel' : i === 0 ? 'Alert' : 'Update',
    }));
    const last = docs[docs.length - 1];
    const stamp = (x: Date) => x.toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const xml = capAlertXml({
      alarm: publicAlarm(a),
      device: { name: device.name, location: device.location },
      msgType: last?.type ?? 'Alert',
      identifier: last?.identifier ?? `urn:regenwacht:public:alarm:${a.id}`,
      sent: last?.sent ?? new Date(a.startedAt),
      references: docs.slice(0, -1).map((x) => `${sender},${x.identifier},${stamp(x.sent)}`),
      sender,
      publicUrl: base,
      status: ctx.config.cap.status,
      scope: 'Public',
      ars: Object.hasOwn(ctx.config.capArs, device.org) ? ctx.config.capArs[device.org] : undefined,
      web: `${base}/sta/v1.1/Things('${device.id}')`,
    });
    return { alarm: a, xml, last };
  }

  const params = z.object({ org: orgSchema });
  app.get(
    '/open/cap/:org/alerts.atom',
    {
      schema: { tags: ['open data'], summary: "A municipality's public warnings as a CAP 1.2 Atom feed (scope Public)", params, response: { 200: z.string() } },
      config,
    },
    async (req, reply) => {
      const org = req.params.org;
      const devices = await stations(org);
      const now = Date.now();
      const listed = await ctx.alarms!.list({ state: 'all', mode: 'active', limit: 1000, org });
      const entries = [];
      for (const a of listed) {
        if (!shown(a, devices)) continue;
        if (!(a.state === 'firing' || a.state === 'acknowledged' || Date.parse(a.updatedAt) >= now - FEED_WINDOW_MS)) continue;
        const c = await capDoc(a.id, devices.get(a.deviceId)!);
        if (c?.last)
          entries.push({
            alarm: publicAlarm(a),
            identifier: c.last.identifier,
            sent: c.last.sent,
            xmlUrl: `${base}/open/cap/${org}/alerts/${a.id}.xml`,
            title: `${c.last.type === 'Cancel' ? 'Beendet: ' : ''}${alarmTitle(a)} – ${devices.get(a.deviceId)!.name}`,
          });
      }
      cacheFor(reply, 30);
      return reply
        .type('application/atom+xml; charset=utf-8')
        .send(
          capAtomFeed(entries, { selfUrl: `${base}/open/cap/${org}/alerts.atom`, updated: new Date(Math.max(now, ...entries.map((e) => e.sent.getTime()))) }),
        );
    },
  );
  app.get(
    '/open/cap/:org/alerts/:file',
    {
      schema: {
        tags: ['open data'],
        summary: 'One public warning as a CAP 1.2 document (Alert, Update or Cancel)',
        params: z.object({ org: orgSchema, file: z.string().regex(/^\d+\.xml$/, 'expected <alarmId>.xml') }),
        response: { 200: z.string() },
      },
      config,
    },
    async (req, reply) => {
      const { org } = req.params;
      const id = req.params.file.replace(/\.xml$/, '');
      const devices = await stations(org);
      const a = (await ctx.alarms!.orgOf(id)) === org ? await ctx.alarms!.get(id) : undefined;
      if (!a || !shown(a, devices)) throw notFound(`no public warning ${id} of municipality '${org}'`);
      const c = await capDoc(id, devices.get(a.deviceId)!);
      if (!c) throw notFound(`no public warning ${id}`);
      cacheFor(reply, 30);
      return reply.type('application/cap+xml; charset=utf-8').send(c.xml);
    },
  );
}
