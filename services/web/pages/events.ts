// Server-Sent Events for the live pages: alarm changes at once, stations coming back from silence coalesced
// by the feed (never every reading). A user gets only the events of the municipality it belongs to.

import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { needUser, type WebDeps } from '../context.ts';
import type { StatusBatch } from '../feed.ts';

/**
 * One status batch serialised once per municipality, however many browsers watch: 200 open Lagebilder
 * cost 200 socket writes of the same bytes, not 200 filters and JSON encodings.
 * Format: {"<deviceId>": <epoch s of its newest reading>, …}
 */
const chunks = new WeakMap<StatusBatch, Map<string, Buffer | null>>();
function statusChunk(batch: StatusBatch, orgKey: string, sees: (deviceId: string) => boolean): Buffer | null {
  let perOrg = chunks.get(batch);
  if (!perOrg) chunks.set(batch, (perOrg = new Map()));
  const hit = perOrg.get(orgKey);
  if (hit !== undefined) return hit;
  let out: Record<string, number> | undefined;
  for (const [id, t] of Object.entries(batch)) if (sees(id)) (out ??= {})[id] = Math.round(t / 1000);
  const chunk = out ? Buffer.from(`event: stations\ndata: ${JSON.stringify(out)}\n\n`) : null;
  perOrg.set(orgKey, chunk);
  return chunk;
}

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
    const orgKey = p.org ?? '';
    const offStatus = d.feed.onStatus((batch) => {
      // a slow client skips status changes (its next alarm event or reconnect refreshes it); alarms always go out
      if (res.writableLength > 1 << 20) return;
      const chunk = statusChunk(batch, orgKey, sees);
      if (chunk) res.write(chunk);
    });
    // a station page asks for its own station's readings: `/events?device=<id>` (only a station it may see)
    const watched = (req.query as { device?: string }).device;
    const offDevice =
      typeof watched === 'string' && d.ctx.devices.get(watched) !== undefined && sees(watched)
        ? d.feed.onDeviceReadings(watched, (t) => send('reading', { deviceId: watched, time: t }))
        : () => {};
    const hb = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    hb.unref();
    send('hello', { at: Date.now() });
    req.raw.on('close', () => {
      clearInterval(hb);
      offAlarm();
      offStatus();
      offDevice();
      open.delete(res);
    });
  });
}
