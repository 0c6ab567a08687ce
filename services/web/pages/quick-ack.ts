// Acknowledge from the message: PUBLIC_URL/q/<token> opens a small page with the alarm and a "Quittieren"
// button. GET only shows (link scanners and previews open links); only the form's POST acknowledges, in the
// name the route gives the recipient. No login: the token is the permission, single use. [issue 16]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { alarmTitle } from '../../../alerts/channels/wording.ts';
import type { Alarm } from '../../../alerts/types.ts';
import { type AckLink, AckLinkStore } from '../../responders/ack-link-store.ts';
import { sendHtml, view, type WebDeps } from '../context.ts';
import { type Html, html } from '../html.ts';
import { layout, type View } from '../layout.ts';
import { valueText } from './lagebild.ts';

const WORDS = {
  de: {
    title: 'Alarm quittieren',
    button: 'Quittieren',
    station: 'Station',
    value: 'Wert',
    since: 'seit',
    as: 'Sie quittieren als',
    done: 'Quittiert. Danke – die anderen Empfänger werden benachrichtigt.',
    ackedBy: 'Bereits quittiert von {who} um {at}.',
    used: 'Dieser Link wurde bereits verwendet.',
    ended: 'Der Alarm ist beendet; Quittieren ist nicht mehr nötig.',
    unknown: 'Dieser Link ist ungültig oder abgelaufen.',
    foreign: 'Quittieren nur über diese Seite möglich. Bitte den Link erneut öffnen.',
  },
  en: {
    title: 'Acknowledge alarm',
    button: 'Acknowledge',
    station: 'Station',
    value: 'Value',
    since: 'since',
    as: 'You acknowledge as',
    done: 'Acknowledged. Thank you – the other recipients are told.',
    ackedBy: 'Already acknowledged by {who} at {at}.',
    used: 'This link has already been used.',
    ended: 'The alarm has ended; no acknowledgement needed.',
    unknown: 'This link is invalid or has expired.',
    foreign: 'Acknowledging works only from this page. Please open the link again.',
  },
} as const;
type Word = keyof (typeof WORDS)['de'];

const fill = (s: string, vars: Record<string, string>) => s.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');

/**
 * A cross-site form post carries the attacker's Origin (or Sec-Fetch-Site: cross-site); our own form carries
 * ours. The token in the path is still needed, so this only closes the gap of a token that leaked. [OWASP CSRF]
 */
function crossSite(req: FastifyRequest, publicUrl: string): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  const own = new Set([new URL(publicUrl).host, req.headers.host ?? '']);
  try {
    return !own.has(new URL(origin).host);
  } catch {
    return true;
  }
}

export async function quickAckPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const links = new AckLinkStore(ctx.db);

  const page = (v: View, status: number, body: Html, reply: Parameters<typeof sendHtml>[0]) => {
    reply.header('referrer-policy', 'no-referrer'); // the token must not travel on to another site
    reply.header('x-robots-tag', 'noindex');
    return sendHtml(reply, layout(v, { title: w(v, 'title'), page: 'quick-ack', body }), status);
  };
  const w = (v: View, k: Word) => WORDS[v.i.lang === 'en' ? 'en' : 'de'][k];

  const card = (v: View, link: AckLink, a: Alarm, note?: string, form = false) => {
    const { i } = v;
    const dev = ctx.devices.get(a.deviceId);
    return html`<section class="quick-ack">
<h1><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span> ${alarmTitle(a)}</h1>
<p>${a.ruleName} · Alarm ${a.id}</p>
<dl class="facts">
  <div><dt>${w(v, 'station')}</dt><dd>${dev?.name ?? a.deviceId}</dd></div>
  <div><dt>${w(v, 'value')}</dt><dd>${valueText(i, a)} · ${w(v, 'since')} ${i.time(a.startedAt)}</dd></div>
</dl>
${note ? html`<p class="message" role="status">${note}</p>` : ''}
${
  form
    ? html`<form method="post" action="/q/${link.token}">
<p>${w(v, 'as')} <strong>${link.recipient}</strong>.</p>
<button type="submit" class="big">${w(v, 'button')}</button></form>`
    : ''
}
</section>`;
  };

  /** What the page says about this link now; a button only while the recipient can still acknowledge. */
  const render = async (v: View, link: AckLink, justDone = false): Promise<{ body: Html; status: number }> => {
    const a = await ctx.alarms?.get(link.alarmId);
    if (!a) return { body: html`<p class="message">${w(v, 'unknown')}</p>`, status: 404 };
    if (a.state === 'resolved' || a.state === 'closed') return { body: card(v, link, a, w(v, 'ended')), status: 410 };
    if (justDone) return { body: card(v, link, a, w(v, 'done')), status: 200 };
    if (a.state === 'acknowledged') {
      return { body: card(v, link, a, fill(w(v, 'ackedBy'), { who: a.acknowledgedBy ?? '', at: v.i.time(a.acknowledgedAt) })), status: 200 };
    }
    if (link.usedAt) return { body: card(v, link, a, w(v, 'used')), status: 200 };
    return { body: card(v, link, a, undefined, true), status: 200 };
  };

  const tokenOf = (req: FastifyRequest) => (req.params as { token: string }).token;

  app.get('/q/:token', { schema: { hide: true, summary: 'Acknowledge page of one message (shows, never acknowledges)' } }, async (req, reply) => {
    const v = view(req);
    const link = await links.find(tokenOf(req));
    if (!link) return page(v, 404, html`<p class="message">${w(v, 'unknown')}</p>`, reply);
    const r = await render(v, link, (req.query as Record<string, string>).done === '1');
    return page(v, r.status, r.body, reply);
  });

  app.post('/q/:token', { schema: { hide: true, summary: 'Acknowledge the alarm of one message, in the recipient’s name' } }, async (req, reply) => {
    const v = view(req);
    const link = await links.find(tokenOf(req));
    if (!link) return page(v, 404, html`<p class="message">${w(v, 'unknown')}</p>`, reply);
    if (crossSite(req, ctx.config.publicUrl)) {
      ctx.log.warn({ alarmId: link.alarmId, origin: req.headers.origin }, 'acknowledge link posted from another site, refused');
      return page(v, 403, html`<p class="message">${w(v, 'foreign')}</p>`, reply);
    }
    const a = await ctx.alarms?.get(link.alarmId);
    if (a?.state !== 'firing' || !(await links.use(link.token, Date.now()))) {
      const r = await render(v, link);
      return page(v, r.status === 200 ? 409 : r.status, r.body, reply);
    }
    const r = await ctx.alarms!.acknowledge(link.alarmId, link.recipient, `über Link (${link.channel})`);
    if (typeof r === 'string') {
      await links.release(link.token); // ended in between: the link stays as it was
      const again = await render(v, link);
      return page(v, again.status, again.body, reply);
    }
    ctx.log.info({ alarmId: link.alarmId, channel: link.channel }, 'alarm acknowledged from a message link');
    return reply.redirect(`/q/${link.token}?done=1`, 303);
  });
}
