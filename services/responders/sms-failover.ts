// SMS delivery reports and failover: a provider's status callback is stored on the attempt it belongs to;
// an SMS reported failed, or without a report within SMS_DELIVERY_TIMEOUT, goes out once more through the
// next provider in SMS_PROVIDERS; with none left it is counted undelivered, with an event on its alarm. [issue 16]

import type { Logger } from 'pino';
import client from 'prom-client';
import type { Queryable } from '../db/db.ts';
import { SmsReportStore } from './sms-report-store.ts';

export type ReportStatus = 'queued' | 'sent' | 'delivered' | 'failed';

// Twilio MessageStatus values; seven's dlr status words. Anything else is kept as reported and read as "sent".
const STATUS: Record<string, ReportStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
  ACCEPTED: 'queued',
  BUFFERED: 'sent',
  TRANSMITTED: 'sent',
  DELIVERED: 'delivered',
  NOTDELIVERED: 'failed',
  EXPIRED: 'failed',
  REJECTED: 'failed',
  FAILED: 'failed',
};

export const reportStatus = (raw: string): ReportStatus => STATUS[raw] ?? STATUS[raw.toLowerCase()] ?? 'sent';

/** Providers whose status callbacks Regenwacht receives; the others (log, http) are done once accepted. */
export const REPORTING = new Set(['twilio', 'seven']);

function counter(registry: client.Registry, name: string, help: string): client.Counter {
  return (registry.getSingleMetric(name) as client.Counter | undefined) ?? new client.Counter({ name, help, registers: [registry] });
}

export class SmsFailover {
  readonly store: SmsReportStore;
  private readonly undeliveredTotal: client.Counter;
  private readonly resentTotal: client.Counter;

  constructor(
    db: Queryable,
    private readonly chain: readonly string[],
    readonly timeoutMs: number,
    registry: client.Registry,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.store = new SmsReportStore(db);
    this.undeliveredTotal = counter(registry, 'regenwacht_sms_undelivered_total', 'SMS given up as undelivered after every provider in SMS_PROVIDERS');
    this.resentTotal = counter(registry, 'regenwacht_sms_resent_total', 'SMS sent once more through the next provider');
  }

  /** Handles one status callback; false when no attempt carries this message id. */
  async report(provider: string, messageId: string, raw: string, error: string | null): Promise<boolean> {
    const rec = await this.store.record(provider, messageId, raw, error, new Date(this.now()));
    if (!rec) {
      this.log.warn({ provider, providerMessageId: messageId, status: raw }, 'delivery report for an unknown message');
      return false;
    }
    const s = reportStatus(raw);
    this.log.info({ notificationId: rec.notificationId, alarmId: rec.alarmId, provider, status: raw }, 'sms delivery report');
    if (s === 'delivered') await this.store.delivered(rec.notificationId);
    if (s === 'failed') await this.next(rec.notificationId, this.chain.indexOf(provider), rec.to, `${provider}: ${raw}${error ? ` ${error}` : ''}`);
    return true;
  }

  /** SMS whose report did not come in time. */
  async sweep(): Promise<void> {
    for (const o of await this.store.overdue(new Date(this.now()))) {
      await this.next(o.id, o.providerIndex, o.to, `${this.chain[o.providerIndex] ?? '?'}: kein Zustellbericht nach ${Math.round(this.timeoutMs / 1000)} s`);
    }
  }

  /** An SMS failed at provider `idx`: the next provider once, or undelivered. Late or repeated calls are no-ops. */
  async next(notificationId: string, idx: number, to: string, why: string): Promise<void> {
    if (idx < 0) return;
    const now = new Date(this.now());
    const log = { notificationId, to, reason: why };
    if (idx + 1 < this.chain.length) {
      if (await this.store.resend(notificationId, idx, now)) {
        this.resentTotal.inc();
        this.log.warn({ ...log, provider: this.chain[idx + 1] }, 'sms not delivered, sending through the next provider');
      }
      return;
    }
    if (await this.store.undelivered(notificationId, idx, now, `SMS an ${to} nicht zugestellt (${why})`)) {
      this.undeliveredTotal.inc();
      this.log.error(log, 'sms undelivered by every provider');
    }
  }

  /** The provider at this position of the chain (the last one once the chain is used up). */
  providerAt(idx: number): string {
    return this.chain[Math.min(Math.max(idx, 0), this.chain.length - 1)];
  }

  get length(): number {
    return this.chain.length;
  }
}
