// Outbox worker: claims due notifications (FOR UPDATE SKIP LOCKED, so several instances share the work),
// delivers each independently (a slow receiver only holds its own slot), records every attempt, retries
// with exponential backoff and jitter, and gives up visibly after a bounded time. [docs/formats.md]
import type { Logger } from 'pino';
import { emailMessage, mailDomain } from '../../alerts/channels/email.ts';
import { alertmanagerGroupBody, groupEmailMessage, groupSmsText, groupWebhookBody } from '../../alerts/channels/group-text.ts';
import { ackable, smsText } from '../../alerts/channels/sms-text.ts';
import type { DeliveryResult } from '../../alerts/channels/types.ts';
import { callTwiml } from '../../alerts/channels/voice.ts';
import { buildWebhookBody } from '../../alerts/channels/webhook.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Metrics } from '../metrics.ts';
import { createEmailSender, type EmailSender } from '../notify/email-sender.ts';
import { createSmsSender, type SmsSender } from '../notify/sms-senders.ts';
import { createVoiceCaller, type VoiceCaller } from '../notify/voice-call.ts';
import { deliverWebhook } from '../notify/webhook-delivery.ts';
import { AckLinkStore } from '../responders/ack-link-store.ts';
import { REPORTING, SmsFailover } from '../responders/sms-failover.ts';
import { CLAIMED_BY_GONE_SQL, INSTANCE_ID } from '../scheduler/membership.ts';
import { ATTEMPT_LEASE_MS, type ClaimedNotification } from './alarm-store.ts';
import { alarmTrace } from './alarm-trace.ts';
import { flushDueGroups, groupMessageOf } from './group-store.ts';
import { type EgressScope, WebhookEgress } from './webhook-egress.ts';

/** A claimed outbox row: by the claim query, or already at insert (alarm-store). */
type Row = ClaimedNotification;

export interface NotifierOptions {
  now: () => number;
  concurrency?: number;
  giveUpAfterMs?: number;
  maxAttempts?: number;
  webhookTimeoutMs?: number;
  pollMs?: number;
}

export class Notifier {
  private inFlight = 0;
  /** ids this process is delivering right now: never claimed again here, even once their lock has expired */
  private readonly sendingIds = new Set<string>();
  private running = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** one sender per provider in SMS_PROVIDERS, in failover order */
  private sms: SmsSender[];
  readonly failover: SmsFailover;
  private readonly egress: WebhookEgress;
  private readonly egressCache = new Map<string, { scope: Promise<EgressScope>; until: number }>();
  private readonly opts: Required<NotifierOptions>;
  private idle: Array<() => void> = [];
  private readonly links: AckLinkStore;
  private readonly publicUrl: string;
  private readonly mail?: { sender: EmailSender; domain: string };
  /** Twilio Programmable Voice for `call` targets; absent without Twilio's account settings */
  private readonly voice?: VoiceCaller;

  constructor(
    private db: Db,
    config: Readonly<Config>,
    private log: Logger,
    private metrics: Metrics,
    opts: NotifierOptions,
  ) {
    this.opts = { concurrency: 32, giveUpAfterMs: 24 * 3_600_000, maxAttempts: 30, webhookTimeoutMs: 10_000, pollMs: 1000, ...opts };
    this.egress = new WebhookEgress(config.webhookAllowNets);
    // Twilio posts its delivery reports here (seven's are configured in its account: PUBLIC_URL/hooks/seven)
    const twilioStatusCallback = `${config.publicUrl}/hooks/twilio/sms-status`;
    this.sms = config.sms.providers.map((provider) => createSmsSender({ ...config.sms, provider, twilioStatusCallback }, { info: (o, m) => log.info(o, m) }));
    this.failover = new SmsFailover(db, config.sms.providers, config.sms.deliveryTimeoutMs, metrics.registry, log, this.opts.now);
    this.links = new AckLinkStore(db);
    this.publicUrl = config.publicUrl;
    this.voice = createVoiceCaller(config.sms);
    if (config.mail) this.mail = { sender: createEmailSender(config.mail), domain: mailDomain(config.mail.from) };
  }

  /** The recipient's own acknowledge link, while the alarm can still be acknowledged. [issue 16] */
  private async ackUrl(row: Row): Promise<string | undefined> {
    if (!ackable(row.payload)) return undefined;
    return `${this.publicUrl}/q/${await this.links.tokenFor(row, this.opts.now())}`;
  }

  start() {
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Look for due work now (called after every alarm commit). */
  kick() {
    if (this.stopped) {
      // stopping: the last delivery to finish lets stop() return at once instead of after its timeout
      if (!this.running && this.inFlight === 0) for (const f of this.idle.splice(0)) f();
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.claimAndSend()
      .catch((e) => this.log.warn({ err: (e as Error).message }, 'outbox poll failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        } else if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
      });
  }

  private async claimAndSend() {
    // SMS without a delivery report in time go to the next provider (due again right away)
    await this.failover.sweep();
    // storm groups whose wait or interval is over become one message per target [group-store.ts]
    await flushDueGroups(this.db, this.opts.now());
    const free = this.opts.concurrency - this.inFlight;
    if (free <= 0) return;
    const now = new Date(this.opts.now());
    const r = await this.db.query<Row>(
      // A row of an instance that is gone is taken once its attempt's lease is over: until then that attempt
      // may still be on its way (the instance may be alive, only cut off from the database).
      `update notifications set state='sending', locked_until = $1::timestamptz + interval '2 minutes', attempts = attempts + 1, claimed_by = $4,
              lease_until = $1::timestamptz + $5 * interval '1 millisecond'
       where id in (select id from notifications
                    where ((state = 'pending' and next_attempt_at <= $1)
                           or (state = 'sending' and (locked_until < $1 or (${CLAIMED_BY_GONE_SQL} and (lease_until is null or lease_until < $1)))))
                      and not (id = any($3::text[]))
                    order by next_attempt_at limit $2 for update skip locked)
       returning id, alarm_id, route_id, target, payload, attempts, created_at, provider_index, group_info`,
      [now, free, [...this.sendingIds], INSTANCE_ID, this.leaseMs],
    );
    for (const row of r.rows) this.launch(row);
  }

  /** Delivers rows the alarm store inserted already claimed for this process (no claim round trip). */
  deliverNow(rows: Row[]) {
    if (this.stopped) {
      // stopping: given back unattempted, so another instance's next poll sends them (no lease to wait out)
      void this.db
        .query(
          `update notifications set state = 'pending', attempts = attempts - 1, claimed_by = null, locked_until = null, lease_until = null
           where id = any($1::text[]) and state = 'sending' and claimed_by = $2`,
          [rows.map((r) => r.id), INSTANCE_ID],
        )
        .catch((e) => this.log.warn({ err: (e as Error).message }, 'notifications not given back at stop; their lock expires'));
      return;
    }
    for (const row of rows) this.launch(row);
  }

  private launch(row: Row) {
    this.inFlight++;
    this.sendingIds.add(row.id);
    this.deliver(row)
      .catch((e) => this.log.error({ notificationId: row.id, err: (e as Error).message }, 'recording delivery failed'))
      .finally(() => {
        this.inFlight--;
        this.sendingIds.delete(row.id);
        this.kick();
      });
  }

  /** how long another instance waits before it sends a row again whose sender went silent mid-attempt */
  private get leaseMs(): number {
    return Math.max(ATTEMPT_LEASE_MS, this.opts.webhookTimeoutMs + 2000);
  }

  private async send(row: Row): Promise<DeliveryResult> {
    const group = await groupMessageOf(this.db, row);
    if (group) return this.sendGroup(row, group);
    const t = row.target;
    if (t.type === 'webhook') {
      // checked again at every delivery: the route may predate WEBHOOK_ALLOW_NETS, or its name now resolves elsewhere
      const scope = await this.egressOf(row.route_id);
      const refused = await this.egress.refuseUrl(t.url, scope);
      if (refused) return { ok: false, retryable: false, error: `webhook target not allowed: ${refused}`, latencyMs: 0 };
      const body = JSON.stringify(buildWebhookBody(row.payload, t.format ?? 'regenwacht', { externalUrl: row.payload.alarm.url }));
      alarmTrace.on?.('sent', row.payload.alarm.deviceId);
      return deliverWebhook(t, { msgId: row.id, body }, { timeoutMs: this.opts.webhookTimeoutMs, fetch: this.egress.fetchFor(scope) });
    }
    if (t.type === 'email') {
      if (!this.mail) return { ok: false, retryable: false, error: 'e-mail channel not configured: set SMTP_URL and MAIL_FROM', latencyMs: 0 };
      const alarmUrl = `${this.publicUrl}/alarms/${row.alarm_id}`;
      const m = emailMessage(row.payload, { notificationId: row.id, domain: this.mail.domain, alarmUrl, ackUrl: await this.ackUrl(row) });
      return this.mail.sender.send({ address: t.to, name: t.name }, m);
    }
    if (t.type === 'call') {
      if (!this.voice)
        return { ok: false, retryable: false, error: 'voice calls not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM', latencyMs: 0 };
      // the notification id in the callback URLs: Twilio signs the whole URL, so it cannot be swapped
      const q = `?n=${encodeURIComponent(row.id)}`;
      const twiml = callTwiml(row.payload, { gatherUrl: `${this.publicUrl}/hooks/twilio/call-gather${q}` });
      return this.voice.call({ to: t.to, twiml, statusCallback: `${this.publicUrl}/hooks/twilio/call-status${q}` });
    }
    const idx = Math.min(row.provider_index ?? 0, this.sms.length - 1);
    const res = await this.sms[idx].send({ to: t.to, text: smsText(row.payload, { ackUrl: await this.ackUrl(row) }), reference: row.id });
    return { ...res, provider: this.failover.providerAt(idx) };
  }

  /** One message for the alarms of a storm group (issue 16); each alarm keeps its own acknowledge link. */
  private async sendGroup(row: Row, g: NonNullable<Awaited<ReturnType<typeof groupMessageOf>>>): Promise<DeliveryResult> {
    const t = row.target;
    if (t.type === 'webhook') {
      const scope = await this.egressOf(row.route_id);
      const refused = await this.egress.refuseUrl(t.url, scope);
      if (refused) return { ok: false, retryable: false, error: `webhook target not allowed: ${refused}`, latencyMs: 0 };
      const timestamp = new Date(this.opts.now()).toISOString();
      const body = JSON.stringify(
        t.format === 'alertmanager'
          ? alertmanagerGroupBody(g.message, { key: g.key, externalUrl: row.payload.alarm.url })
          : groupWebhookBody(g.message, { timestamp, routeId: row.route_id, key: g.key }),
      );
      return deliverWebhook(t, { msgId: row.id, body }, { timeoutMs: this.opts.webhookTimeoutMs, fetch: this.egress.fetchFor(scope) });
    }
    if (t.type === 'email') {
      if (!this.mail) return { ok: false, retryable: false, error: 'e-mail channel not configured: set SMTP_URL and MAIL_FROM', latencyMs: 0 };
      // every alarm its own link, minted on the alarm's own (merged) outbox row: single use per alarm and recipient
      const ackUrls: Record<string, string> = {};
      for (const m of g.members) {
        const p = g.message.alarms.find((x) => x.alarm.id === m.alarmId);
        if (p && ackable(p))
          ackUrls[m.alarmId] = `${this.publicUrl}/q/${await this.links.tokenFor({ id: m.id, alarm_id: m.alarmId, target: t }, this.opts.now())}`;
      }
      const m = groupEmailMessage(g.message, { notificationId: row.id, domain: this.mail.domain, alarmUrl: (id) => `${this.publicUrl}/alarms/${id}`, ackUrls });
      return this.mail.sender.send({ address: t.to, name: t.name }, m);
    }
    // (a voice call is never grouped: group-store.ts holds only SMS, e-mail and webhook targets)
    const idx = Math.min(row.provider_index ?? 0, this.sms.length - 1);
    const res = await this.sms[idx].send({ to: t.to, text: groupSmsText(g.message), reference: row.id });
    return { ...res, provider: this.failover.providerAt(idx) };
  }

  /**
   * Who saved the route decides where its webhooks may go; a route since deleted: the stricter rule. One lookup
   * per route a minute, shared by the deliveries of a storm.
   */
  private egressOf(routeId: string | null): Promise<EgressScope> {
    if (!routeId) return Promise.resolve('municipality');
    const hit = this.egressCache.get(routeId);
    if (hit && hit.until > Date.now()) return hit.scope;
    if (this.egressCache.size > 10_000) this.egressCache.clear();
    const scope = this.db
      .query<{ egress: EgressScope }>('select egress from routes where id = $1', [routeId])
      .then((r): EgressScope => (r.rows[0]?.egress === 'installation' ? 'installation' : 'municipality'));
    this.egressCache.set(routeId, { scope, until: Date.now() + 60_000 });
    scope.catch(() => this.egressCache.delete(routeId));
    return scope;
  }

  private async deliver(row: Row) {
    let res: DeliveryResult;
    try {
      res = await this.send(row);
    } catch (e) {
      res = { ok: false, retryable: true, error: (e as Error).message, latencyMs: 0 };
    }
    const now = this.opts.now();
    const channel = row.target.type;
    this.metrics.notifications.inc({ channel, result: res.ok ? 'delivered' : res.retryable ? 'retry' : 'failed' });
    // Delivered: the attempt and the row's new state in one statement, one round trip after the receiver's
    // 2xx. A crash between that 2xx and this commit is the one window in which the row is sent again (same
    // webhook-id; receivers drop a repeated id). [docs/operations.md Notifications]
    const attempt =
      'insert into notification_attempts(notification_id, at, ok, status, latency_ms, error, provider, provider_message_id) values ($1,$2,$3,$4,$5,$6,$7,$8)';
    await this.db.query(
      res.ok
        ? `with a as (${attempt}) update notifications set state='delivered', delivered_at=$2, last_status=$4, last_error=null, locked_until=null where id=$1`
        : attempt,
      [
        row.id,
        new Date(now),
        res.ok,
        res.status ?? null,
        Math.round(res.latencyMs),
        res.error ?? null,
        res.provider ?? null,
        res.provider ? (res.responseId ?? null) : null,
      ],
    );
    const log = { notificationId: row.id, alarmId: String(row.alarm_id), channel, status: res.status, attempt: row.attempts };
    if (res.ok) {
      // accepted by a provider that reports delivery: wait for its report, else the next provider [issue 16]
      if (channel === 'call') await this.db.query(`update notifications set handset = 'calling' where id = $1 and handset is null`, [row.id]);
      if (channel === 'sms' && res.provider && REPORTING.has(res.provider) && res.responseId)
        await this.failover.store.awaitReport(row.id, new Date(now + this.failover.timeoutMs));
      this.log.info(log, 'notification delivered');
      return;
    }
    const idx = row.provider_index ?? 0;
    if (
      channel === 'sms' &&
      res.provider &&
      idx + 1 < this.failover.length &&
      (await this.failover.store.afterSendError(row.id, idx, new Date(now), res.status ?? null, res.error ?? null))
    ) {
      this.log.warn({ ...log, err: res.error, provider: this.failover.providerAt(idx + 1) }, 'sms provider failed, sending through the next one');
      return;
    }
    const tooOld = now - new Date(row.created_at).getTime() > this.opts.giveUpAfterMs || row.attempts >= this.opts.maxAttempts;
    if (!res.retryable || tooOld) {
      await this.db.query(`update notifications set state='failed', last_status=$2, last_error=$3, locked_until=null where id=$1`, [
        row.id,
        res.status ?? null,
        res.error ?? null,
      ]);
      this.log.error({ ...log, err: res.error }, res.retryable ? 'notification given up after retries' : 'notification failed, not retryable');
      return;
    }
    const backoff = Math.min(300_000, 1000 * 2 ** Math.min(row.attempts - 1, 12)) * (0.8 + Math.random() * 0.4);
    const next = new Date(now + Math.max(backoff, res.retryAfterMs ?? 0));
    await this.db.query(`update notifications set state='pending', next_attempt_at=$2, last_status=$3, last_error=$4, locked_until=null where id=$1`, [
      row.id,
      next,
      res.status ?? null,
      res.error ?? null,
    ]);
    this.log.warn({ ...log, err: res.error, retryAt: next.toISOString() }, 'notification failed, will retry');
  }

  /** For tests and shutdown: resolves when nothing is being claimed or delivered. */
  async drain(timeoutMs = 15_000): Promise<void> {
    if (!this.running && this.inFlight === 0) return;
    await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.drain(5000);
    await this.egress.close();
    this.mail?.sender.close();
  }
}
