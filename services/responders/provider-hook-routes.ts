// Callbacks of the SMS providers, outside /api (they carry the provider's signature, not a token):
// POST /hooks/twilio/sms-status (Twilio StatusCallback, form fields, X-Twilio-Signature) and
// POST /hooks/seven (seven webhooks, JSON, X-Signature/X-Timestamp/X-Nonce). A bad signature is a 403
// and a log line; a report for a message we never sent is answered 200 (so the provider stops) and logged. [issue 16]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AlarmService } from '../alarms/alarm-service.ts';
import { ApiError } from '../api/errors.ts';
import type { ApiRoutes } from '../api/plugin.ts';
import { createSmsSender } from '../notify/sms-senders.ts';
import { sevenSignatureValid, twilioSignatureValid } from './provider-signatures.ts';
import { SmsFailover } from './sms-failover.ts';
import { SmsReplies } from './sms-replies.ts';
import { VoiceCalls } from './voice-calls.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const received = z.object({ received: z.boolean().describe('false: no message of ours has this id; logged, nothing changed') });
const refused = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The bodies are read as text first: the signatures are over the exact bytes (seven) or the fields (Twilio). */
function rawParsers(app: FastifyInstance) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    req.rawBody = body as string;
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ApiError('VALIDATION_FAILED', 'body is not JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => {
    req.rawBody = body as string;
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

/** The URL the provider called, as it signed it: PUBLIC_URL plus the path and query. */
const calledUrl = (publicUrl: string, req: FastifyRequest) => `${publicUrl}${req.url}`;

export const providerHookRoutes: ApiRoutes<{ alarms: AlarmService }> = async (app, { ctx, alarms }) => {
  rawParsers(app);
  const { config } = ctx;
  const log = ctx.log.child({ component: 'sms-hooks' });
  const failover = new SmsFailover(ctx.db, config.sms.providers, config.sms.deliveryTimeoutMs, ctx.metrics.registry, log, alarms.now);
  const replies = new SmsReplies(ctx.db, alarms, log);
  const calls = new VoiceCalls(ctx.db, alarms, log);
  // seven answers a reply with a new SMS through its REST API; Twilio takes the answer as TwiML
  const sevenSms = config.sms.sevenApiKey ? createSmsSender({ ...config.sms, provider: 'seven' }, { info: (o, m) => log.info(o, m) }) : undefined;
  const forbidden = (provider: string, req: FastifyRequest): never => {
    log.warn({ provider, path: req.url.split('?')[0], ip: req.ip }, 'provider callback with a wrong or missing signature, refused');
    throw new ApiError('FORBIDDEN', `${provider} signature missing or wrong`);
  };

  app.post(
    '/twilio/sms-status',
    {
      schema: {
        tags: ['provider callbacks'],
        summary: 'Twilio StatusCallback: delivery report of one SMS',
        security: [],
        body: z.object({ MessageSid: z.string().min(1), MessageStatus: z.string().min(1), ErrorCode: z.string().optional() }).passthrough(),
        response: { 200: received, 403: refused },
      },
    },
    async (req) => {
      const token = config.sms.twilioAuthToken;
      const fields = req.body as Record<string, string>;
      if (!token || !twilioSignatureValid(token, calledUrl(config.publicUrl, req), fields, req.headers['x-twilio-signature'] as string | undefined)) {
        forbidden('twilio', req);
      }
      const b = req.body;
      return { received: await failover.report('twilio', b.MessageSid, b.MessageStatus, b.ErrorCode ? `Fehlercode ${b.ErrorCode}` : null) };
    },
  );

  app.post(
    '/twilio/sms-inbound',
    {
      schema: {
        tags: ['provider callbacks'],
        summary: 'Twilio incoming SMS: a reply such as "OK 17" acknowledges; answered with TwiML',
        security: [],
        body: z.object({ From: z.string().min(1), Body: z.string().default(''), MessageSid: z.string().optional() }).passthrough(),
        response: { 200: z.string().describe('TwiML <Response><Message>…</Message></Response>'), 403: refused },
      },
    },
    async (req, reply) => {
      const token = config.sms.twilioAuthToken;
      const fields = req.body as Record<string, string>;
      if (!token || !twilioSignatureValid(token, calledUrl(config.publicUrl, req), fields, req.headers['x-twilio-signature'] as string | undefined)) {
        forbidden('twilio', req);
      }
      const answer = await replies.handle({ provider: 'twilio', messageId: req.body.MessageSid, from: req.body.From, text: req.body.Body });
      const xml = answer ? `<Message>${escapeXml(answer)}</Message>` : '';
      return reply.type('text/xml; charset=utf-8').send(`<?xml version="1.0" encoding="UTF-8"?><Response>${xml}</Response>`);
    },
  );

  /** Twilio signs the full URL (with ?n=<notification id>) and the form fields. */
  const twilioSigned = (req: FastifyRequest) => {
    const token = config.sms.twilioAuthToken;
    const fields = req.body as Record<string, string>;
    if (!token || !twilioSignatureValid(token, calledUrl(config.publicUrl, req), fields, req.headers['x-twilio-signature'] as string | undefined)) {
      forbidden('twilio', req);
    }
  };
  const callQuery = z.object({ n: z.string().min(1).max(64).describe('the notification id the call was placed for') });

  app.post(
    '/twilio/call-status',
    {
      schema: {
        tags: ['provider callbacks'],
        summary: 'Twilio voice StatusCallback: progress of one alarm call (ringing, completed, no-answer, busy, failed)',
        security: [],
        querystring: callQuery,
        body: z.object({ CallSid: z.string().min(1), CallStatus: z.string().min(1), ErrorCode: z.string().optional() }).passthrough(),
        response: { 200: received, 403: refused },
      },
    },
    async (req) => {
      twilioSigned(req);
      return { received: await calls.status(req.query.n, req.body.CallSid, req.body.CallStatus, req.body.ErrorCode) };
    },
  );

  app.post(
    '/twilio/call-gather',
    {
      schema: {
        tags: ['provider callbacks'],
        summary: 'Twilio voice Gather action: the key pressed during an alarm call; 1 acknowledges; answered with TwiML',
        security: [],
        querystring: callQuery,
        body: z.object({ CallSid: z.string().min(1), Digits: z.string().optional() }).passthrough(),
        response: { 200: z.string().describe('TwiML <Response><Say>…</Say></Response>'), 403: refused },
      },
    },
    async (req, reply) => {
      twilioSigned(req);
      const xml = await calls.gather(req.query.n, req.body.Digits);
      return reply.type('text/xml; charset=utf-8').send(xml);
    },
  );

  const sevenBody = z.object({
    webhook_event: z.string(),
    webhook_timestamp: z.string().optional(),
    data: z.record(z.string(), z.unknown()),
  });
  app.post(
    '/seven',
    {
      schema: {
        tags: ['provider callbacks'],
        summary: 'seven webhook: delivery report (dlr) of one SMS, or an SMS reply (sms_mo)',
        security: [],
        body: sevenBody,
        response: { 200: received, 403: refused },
      },
    },
    async (req) => {
      const secret = config.sms.sevenWebhookSecret;
      const h = req.headers;
      const ok =
        !!secret &&
        sevenSignatureValid(secret, {
          url: calledUrl(config.publicUrl, req),
          method: req.method,
          body: req.rawBody ?? '',
          timestamp: h['x-timestamp'] as string | undefined,
          nonce: h['x-nonce'] as string | undefined,
          signature: h['x-signature'] as string | undefined,
          nowSec: Math.floor(Date.now() / 1000),
        });
      if (!ok) forbidden('seven', req);
      const { webhook_event: event, data } = req.body;
      if (event === 'dlr') {
        const id = data.msg_id;
        const status = data.status;
        if ((typeof id !== 'string' && typeof id !== 'number') || typeof status !== 'string')
          throw new ApiError('VALIDATION_FAILED', 'dlr needs data.msg_id and data.status');
        return { received: await failover.report('seven', String(id), status, null) };
      }
      if (event === 'sms_mo') {
        const from = String(data.sender ?? '');
        if (!from) throw new ApiError('VALIDATION_FAILED', 'sms_mo needs data.sender');
        const to = from.startsWith('+') ? from : `+${from}`;
        const answer = await replies.handle({
          provider: 'seven',
          messageId: data.id === undefined ? undefined : String(data.id),
          from: to,
          text: String(data.text ?? ''),
        });
        if (answer && sevenSms) {
          const r = await sevenSms.send({ to, text: answer, reference: `reply-${String(data.id ?? '')}` });
          if (!r.ok) log.warn({ to, err: r.error }, 'answer to an SMS reply not sent');
        }
        return { received: true };
      }
      log.info({ event }, 'seven webhook of a kind not used, ignored');
      return { received: false };
    },
  );
};

const escapeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
