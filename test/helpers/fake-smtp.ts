// A local SMTP server (smtp-server) that requires the login from SMTP_URL and parses every mail it takes
// (mailparser), so tests read what a mailbox would show: headers, plain text and HTML.
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './system.ts';

export interface Mail {
  envelopeTo: string[];
  parsed: ParsedMail;
}

export interface FakeSmtp {
  url: string;
  mails: Mail[];
  /** what the next RCPT TO answers: 'ok' or an SMTP error code (e.g. 451, 550) */
  script: Array<'ok' | number>;
  waitMails(n: number, ms?: number): Promise<Mail[]>;
  close(): Promise<void>;
}

export async function fakeSmtp(user = 'regenwacht', pass = 'smtp-secret'): Promise<FakeSmtp> {
  const mails: Mail[] = [];
  const script: Array<'ok' | number> = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true, // loopback only; a real relay takes STARTTLS or smtps://
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) return cb(null, { user });
      cb(new Error('Invalid username or password'));
    },
    onRcptTo(_addr, _session, cb) {
      const step = script.shift() ?? 'ok';
      if (step === 'ok') return cb();
      cb(Object.assign(new Error(step >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: step }));
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((parsed) => {
          mails.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${user}:${pass}@127.0.0.1:${port}`,
    mails,
    script,
    waitMails: (n, ms = 8000) => waitFor(() => mails.length >= n && mails, ms, `${n} mail(s)`),
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
