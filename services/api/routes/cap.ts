// CAP 1.2 documents and their Atom feed. [docs/formats.md CAP 1.2]
import { z } from 'zod';
import type { AlarmService } from '../../alarms/alarm-service.ts';
import { CapDocuments } from '../../alarms/cap-documents.ts';
import { assertOrg, need, orgFilter } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { responses } from '../schemas.ts';

export const capRoutes: ApiRoutes<{ alarms: AlarmService }> = async (app, { ctx, alarms }) => {
  const cap = new CapDocuments(alarms, ctx.devices, ctx.config);
  app.get(
    '/alerts/:file',
    {
      schema: {
        tags: ['cap'],
        summary: 'The latest CAP 1.2 document of an alarm (Alert, Update or Cancel)',
        params: z.object({ file: z.string().regex(/^\d+\.xml$/, 'expected <alarmId>.xml') }),
        produces: ['application/cap+xml'],
        response: responses({ 200: z.string().describe('CAP 1.2 XML') }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'read');
      const id = req.params.file.replace(/\.xml$/, '');
      const c = await cap.document(id);
      if (!c) throw notFound('alarm', id);
      assertOrg(p, c.alarm.org, 'alarm', id);
      return reply.type('application/cap+xml; charset=utf-8').send(c.xml);
    },
  );
  app.get(
    '/alerts.atom',
    {
      schema: {
        tags: ['cap'],
        summary: 'Atom feed of the alarms open or changed in the last 24 h, with their CAP documents',
        produces: ['application/atom+xml'],
        response: responses({ 200: z.string().describe('Atom 1.0 XML') }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'read');
      return reply.type('application/atom+xml; charset=utf-8').send(await cap.feed(orgFilter(p)));
    },
  );
};
