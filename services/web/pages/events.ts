// Server-Sent Events for the live pages: alarm changes at once, readings coalesced by the feed. A user
// gets only the events of the municipality it belongs to.
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { needUser, type WebDeps } from '../context.ts';
import type { ReadingsBatch } from '../feed.ts';

export async function eventPages(app: FastifyInstance, d: WebDeps) {
  const open = new Set<ServerResponse>();
  // open streams would keep the server from closing
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/events', async (req, reply) => {
    const p = needUser(req);
    const sees = (deviceId: string) => p.org === null || d.ctx.devices.get(deviceId)?.org === p.org;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    open.add(res);
    const offAlarm = d.feed.onAlarm(({ alarm: a, kind }) => {
      if (a.mode !== 'active' || !sees(a.deviceId)) return;
      send('alarm', { id: a.id, deviceId: a.deviceId, severity: a.severity, state: a.state, kind, ruleName: a.ruleName });
    });
    const offReadings = d.feed.onReadings((batch) => {
      let out: ReadingsBatch | undefined;
      for (const [id, r] of Object.entries(batch)) {
        if (!sees(id)) continue;
        (out ??= {})[id] = r;
      }
      if (out) send('readings', out);
    });
    const hb = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    hb.unref();
    send('hello', { at: Date.now() });
    req.raw.on('close', () => {
      clearInterval(hb);
      offAlarm();
      offReadings();
      open.delete(res);
    });
  });
}
