// Silences (maintenance windows): alarms are still recorded, their notifications held. [docs/api.md Endpoints]
import type { AlarmService } from '../../alarms/alarm-service.ts';
import { newId } from '../../alarms/ids.ts';
import { silenceBody } from '../../alarms/silence-schema.ts';
import { cancelSilence, createSilence, listSilences } from '../../alarms/silence-store.ts';
import { silenceOut } from '../alarm-schemas.ts';
import { actor, need, orgFilter, orgFor } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, itemsOf, noContent, responses } from '../schemas.ts';

const example = { match: { deviceIds: ['gauge-01'] }, endsAt: '2026-06-01T16:00:00+02:00', comment: 'Wartung Pegel Lahnbrücke' };

export const silenceRoutes: ApiRoutes<{ alarms: AlarmService }> = async (app, { ctx, alarms: svc }) => {
  app.post(
    '',
    {
      schema: {
        tags: ['silences'],
        summary: 'Start a maintenance window (alarms recorded, notifications held)',
        body: silenceBody.meta({ examples: [example] }),
        response: responses({ 201: silenceOut }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'silences:write');
      const b = req.body;
      const s = {
        id: newId('sil'),
        match: b.match,
        startsAt: b.startsAt ? new Date(b.startsAt) : new Date(svc.now()),
        endsAt: new Date(b.endsAt),
        comment: b.comment,
        createdBy: actor(p),
        org: orgFor(p, b.org),
      };
      await createSilence(ctx.db, s, b);
      return reply.code(201).send({ ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString(), createdBy: p.name });
    },
  );
  app.get('', { schema: { tags: ['silences'], summary: 'List silences not yet ended', response: responses({ 200: itemsOf(silenceOut) }) } }, async (req) => {
    const p = need(req, 'read');
    const rows = await listSilences(ctx.db, new Date(svc.now()), orgFilter(p));
    return { items: rows.map((s) => ({ ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() })) };
  });
  app.delete(
    '/:id',
    {
      schema: { tags: ['silences'], summary: 'End a silence now (held notifications are released)', params: idParam, response: responses({ 204: noContent }) },
    },
    async (req, reply) => {
      const p = need(req, 'silences:write');
      // Ending a silence early: it ends now, and the scheduler releases what it held.
      if (!(await cancelSilence(ctx.db, req.params.id, new Date(svc.now()), orgFilter(p), actor(p)))) throw notFound('silence', req.params.id);
      return reply.code(204).send();
    },
  );
};
