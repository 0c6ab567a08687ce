// Alarms: list, one with its history, acknowledge. [docs/api.md Alarms]
import { z } from 'zod';
import type { AlarmService } from '../../alarms/alarm-service.ts';
import { bigintId } from '../../db/ids.ts';
import { alarmDetailOut, alarmOut } from '../alarm-schemas.ts';
import { assertOrg, need, orgFilter } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, itemsOf, responses } from '../schemas.ts';

const listQuery = z.object({
  state: z.enum(['active', 'all', 'firing', 'acknowledged', 'resolved', 'closed']).default('active'),
  deviceId: z.string().optional(),
  ruleId: z.string().optional(),
  mode: z.enum(['active', 'shadow']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const alarmRoutes: ApiRoutes<{ alarms: AlarmService }> = async (app, { alarms: svc }) => {
  app.get(
    '',
    { schema: { tags: ['alarms'], summary: 'List alarms (open ones by default)', querystring: listQuery, response: responses({ 200: itemsOf(alarmOut) }) } },
    async (req) => {
      const p = need(req, 'read');
      return { items: await svc.list({ ...req.query, org: orgFilter(p) }) };
    },
  );
  app.get(
    '/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'One alarm with its events, notifications and delivery attempts',
        params: idParam,
        response: responses({ 200: alarmDetailOut }),
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const a = await svc.get(req.params.id);
      if (!a) throw notFound('alarm', req.params.id);
      // an alarm stays with the municipality it fired for, even once its device id is gone [issue 11]
      assertOrg(p, a.org, 'alarm', req.params.id);
      return a;
    },
  );
  app.post(
    '/:id/ack',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an open alarm (409 once it has ended)',
        params: idParam,
        body: z.object({ comment: z.string().max(1000).optional() }).nullish(),
        response: responses({ 200: alarmOut }),
      },
    },
    async (req) => {
      const p = need(req, 'alarms:ack');
      if (!bigintId(req.params.id)) throw notFound('alarm', req.params.id);
      if (p.org !== null) assertOrg(p, await svc.orgOf(req.params.id), 'alarm', req.params.id);
      const r = await svc.acknowledge(req.params.id, p.name, req.body?.comment);
      if (r === 'not_found') throw notFound('alarm', req.params.id);
      if (r === 'resolved' || r === 'closed') throw new ApiError('CONFLICT', `alarm ${req.params.id} is already ${r}`);
      return r;
    },
  );
};
