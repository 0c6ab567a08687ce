// E-mail over SMTP (nodemailer), one message per recipient, classified for the outbox's retry loop:
// a 4xx reply or a lost connection is tried again, a 5xx reply (unknown mailbox, refused) is not. [issue 16]
import nodemailer from 'nodemailer';
import type { EmailMessage } from '../../alerts/channels/email.ts';
import type { DeliveryResult } from '../../alerts/channels/types.ts';

export interface EmailSender {
  send(to: { address: string; name?: string }, m: EmailMessage): Promise<DeliveryResult>;
  close(): void;
}

export function createEmailSender(cfg: { url: string; from: string }, timeoutMs = 15_000): EmailSender {
  const transport = nodemailer.createTransport(cfg.url, {
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(to, m) {
      const started = performance.now();
      const latencyMs = () => Math.round(performance.now() - started);
      try {
        const info = await transport.sendMail({
          from: cfg.from,
          to: to.name ? { name: to.name, address: to.address } : to.address,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
          inReplyTo: m.inReplyTo,
          references: m.references,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        });
        if (info.rejected.length) return { ok: false, retryable: false, error: `SMTP refused ${info.rejected.join(', ')}`, latencyMs: latencyMs() };
        return { ok: true, retryable: false, latencyMs: latencyMs(), responseId: info.messageId };
      } catch (e) {
        const err = e as { responseCode?: number; response?: string; code?: string; message?: string };
        const code = err.responseCode;
        const what = code ? `SMTP ${code} ${oneLine(err.response ?? err.message ?? '')}` : `SMTP ${err.code ?? 'error'}: ${oneLine(err.message ?? '')}`;
        return { ok: false, status: code, retryable: !code || code < 500, error: what.slice(0, 300), latencyMs: latencyMs() };
      }
    },
    close: () => transport.close(),
  };
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
