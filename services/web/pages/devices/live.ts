// The live view of one device over Server-Sent Events: its uplinks and rejections with reasons as they are
// stored, told by the console's live feed (services/web/feed.ts), filterable by reason. [issue 14]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { orgFilter } from '../../../api/auth.ts';
import type { Principal } from '../../../auth/token-store.ts';
import type { Device } from '../../../devices/device-registry.ts';
import { rejectionsOf, uplinksOf } from '../../../devices/uplink-log.ts';
import type { RejectReason } from '../../../ingest/types.ts';
import { needUser, type WebDeps } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import type { I18n } from '../../i18n.ts';
import { dt } from '../../i18n-devices.ts';
import { unit } from './health.ts';

/** the live view's sweep for uplinks stored by another process (this one's are pushed by the feed at once) */
const SWEEP_MS = 15_000;

export const REJECT_REASONS: RejectReason[] = [
  'unknown_topic',
  'bad_envelope',
  'invalid_json',
  'unknown_device',
  'bad_payload',
  'decode_error',
  'wrong_fport',
  'codec_timeout',
  'codec_memory',
  'codec_error',
  'no_codec',
  'unknown_metric',
  'out_of_range',
  'bad_time',
  'too_large',
  'acl_denied',
  'identity_mismatch',
  'store_error',
];

/** What the live view shows under a filter: '' everything, 'uplinks', 'rejected', or one reason. */
export function liveFilter(show: string | undefined): { uplinks: boolean; rejected: boolean; reason?: string } {
  if (show === 'uplinks') return { uplinks: true, rejected: false };
  if (show === 'rejected') return { uplinks: false, rejected: true };
  if (show && (REJECT_REASONS as string[]).includes(show)) return { uplinks: false, rejected: true, reason: show };
  return { uplinks: true, rejected: true };
}

export async function liveEntries(
  ctx: WebDeps['ctx'],
  dev: Device,
  p: Principal,
  f: ReturnType<typeof liveFilter>,
  afterTime: number,
  afterId: number,
  limit: number,
) {
  const [ups, rej] = await Promise.all([
    f.uplinks ? uplinksOf(ctx.db, dev.id, afterTime, limit) : [],
    f.rejected ? rejectionsOf(ctx.db, { deviceId: dev.id, afterId, org: orgFilter(p), reason: f.reason, limit }) : [],
  ]);
  return [...ups, ...rej].sort((a, b) => b.receivedAt - a.receivedAt).slice(0, limit);
}

export function livePages(app: FastifyInstance, d: WebDeps, visibleDevice: (req: FastifyRequest, p: Principal) => Device): void {
  const { ctx } = d;
  // ---- live view over Server-Sent Events: told by the live feed, not polling ----
  const open = new Set<import('node:http').ServerResponse>();
  // open streams would keep the server from closing
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });
  app.get('/devices/:id/live', async (req, reply) => {
    const p = needUser(req);
    const dev = visibleDevice(req, p);
    const f = liveFilter((req.query as Record<string, string | undefined>).show);
    const q = req.query as Record<string, string | undefined>;
    // start after what the page showed when it was rendered (t: its time, rid: its newest rejection)
    let afterTime = Number.isFinite(Number(q.t)) && Number(q.t) > 0 ? Number(q.t) : Date.now();
    let afterId = Number.isSafeInteger(Number(q.rid)) && Number(q.rid) >= 0 ? Number(q.rid) : 0;
    const sent = new Set<number>();
    for (const e of await uplinksOf(ctx.db, dev.id, afterTime - 10_000, 100)) if (e.receivedAt <= afterTime) sent.add(e.time);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const i = req.web.i;
    const t = dt(i);
    let busy = false;
    let again = false;
    let closed = false;
    const tick = async (): Promise<void> => {
      if (closed) return;
      if (busy) {
        again = true; // told while reading: read once more when done
        return;
      }
      busy = true;
      again = false;
      try {
        // a little overlap: a batch committed late may carry an earlier receive time
        const entries = await liveEntries(ctx, dev, p, f, afterTime - 10_000, afterId, 50);
        for (const e of entries.reverse()) {
          if (e.kind === 'uplink') {
            if (sent.has(e.time)) continue;
            sent.add(e.time);
            afterTime = Math.max(afterTime, e.receivedAt);
          } else afterId = Math.max(afterId, e.id);
          res.write(`event: entry\ndata: ${JSON.stringify({ kind: e.kind, html: liveRow(i, t, e).value })}\n\n`);
        }
        if (sent.size > 500) for (const k of [...sent].slice(0, 250)) sent.delete(k);
      } catch (err) {
        req.log.warn({ err, deviceId: dev.id }, 'device live view poll failed');
      } finally {
        busy = false;
      }
      if (again) return tick();
    };
    // the feed says when this device's uplinks are committed or rejected; a slow sweep catches what another
    // process (ROLES split, $share group) stored, which this process's feed never hears of
    const unsubscribe = d.feed.onDeviceReadings(dev.id, () => void tick());
    const timer = setInterval(tick, SWEEP_MS);
    const hb = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    hb.unref();
    res.write(`event: hello\ndata: {}\n\n`);
    void tick(); // what arrived between rendering the page and opening this stream
    const stop = () => {
      closed = true;
      unsubscribe();
      clearInterval(timer);
      clearInterval(hb);
      open.delete(res);
    };
    open.add(res);
    req.raw.on('close', stop);
  });
}

export function liveRow(
  i: I18n,
  t: ReturnType<typeof dt>,
  e: Awaited<ReturnType<typeof uplinksOf>>[number] | Awaited<ReturnType<typeof rejectionsOf>>[number],
): Html {
  if (e.kind === 'uplink') {
    const meta = [
      e.fCnt !== null ? `fCnt ${e.fCnt}` : '',
      e.fPort !== null ? `fPort ${e.fPort}` : '',
      e.rssi !== null ? `${i.num(e.rssi, 0)} dBm` : '',
      e.snr !== null ? `SNR ${i.num(e.snr, 1)}` : '',
      e.source,
    ]
      .filter(Boolean)
      .join(' · ');
    return html`<tr class="uplink" data-kind="uplink"><td>${i.time(e.receivedAt)}</td><td><span class="sev sev-ok">${t('kind_uplink')}</span></td>
<td>${e.values.map((x) => html`<span class="metric${x.quality ? ' flagged' : ''}">${x.metric} = ${i.num(x.value, 3)} ${unit(x.metric)}</span> `)}<br><small class="muted">${meta}</small></td></tr>`;
  }
  return html`<tr class="rejected" data-kind="rejected" data-reason="${e.reason}"><td>${i.time(e.receivedAt)}</td><td><span class="sev sev-severe">${t('kind_rejected')}</span></td>
<td><strong class="reason">${e.reason}</strong>: ${e.message}<br><small class="muted mono">${e.topic} · ${e.payload.slice(0, 160)}</small></td></tr>`;
}
