// The embedded broker's TLS listener (MQTTS): TLS 1.2 at least, optional client certificates checked
// against TLS_CA_FILE (and its revocation list TLS_CRL_FILE), and certificate files re-read when they change, so a renewed certificate (certbot,
// cert-manager) is served to new connections without a restart. [docs/security.md TLS]
import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** client certificates signed by this CA are accepted; a device may log in by its certificate's CN */
  caFile?: string;
  /** revoked client certificates (PEM CRL of that CA): refused at the handshake check like a foreign one */
  crlFile?: string;
}

export interface TlsListener {
  port: number;
  close(): Promise<void>;
}

function contextOptions(f: TlsFiles): tls.SecureContextOptions {
  return {
    cert: fs.readFileSync(f.certFile),
    key: fs.readFileSync(f.keyFile),
    ca: f.caFile ? fs.readFileSync(f.caFile) : undefined,
    crl: f.caFile && f.crlFile ? fs.readFileSync(f.crlFile) : undefined,
    minVersion: 'TLSv1.2',
  };
}

/** The CN of a client certificate the CA vouched for, or undefined when the client showed none. */
export type OnSecureSocket = (sock: tls.TLSSocket, certCn: string | undefined) => void;

export async function startTlsListener(host: string, port: number, files: TlsFiles, onSocket: OnSecureSocket, log: Logger): Promise<TlsListener> {
  const l = log.child({ component: 'mqtts' });
  // A client certificate is optional (a password login over TLS still works); one that the CA did not sign
  // is refused right after the handshake, before a single MQTT byte is read.
  const server = tls.createServer({ ...contextOptions(files), requestCert: !!files.caFile, rejectUnauthorized: false }, (sock) => {
    const peer = files.caFile ? sock.getPeerCertificate() : undefined;
    const shown = !!peer && Object.keys(peer).length > 0;
    if (shown && !sock.authorized) {
      l.warn({ addr: sock.remoteAddress, why: String(sock.authorizationError) }, 'client certificate refused');
      sock.destroy();
      return;
    }
    const cn = shown ? peer.subject?.CN : undefined;
    onSocket(sock, typeof cn === 'string' ? cn : undefined);
  });
  server.on('tlsClientError', (err, sock: net.Socket) => l.debug({ addr: sock.remoteAddress, err: err.message }, 'TLS handshake failed'));
  const watched = [files.certFile, files.keyFile, files.caFile, files.crlFile].filter((f): f is string => !!f);
  const reload = () => {
    try {
      server.setSecureContext(contextOptions(files));
      l.info({ files: watched }, 'TLS certificate files changed, reloaded');
    } catch (e) {
      // a half-written renewal: keep serving the old certificate, try again at the next change
      l.warn({ err: (e as Error).message }, 'TLS certificate files unreadable, keeping the previous ones');
    }
  };
  for (const f of watched) fs.watchFile(f, { interval: 500 }, (cur, prev) => cur.mtimeMs !== prev.mtimeMs && reload());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const f of watched) fs.unwatchFile(f);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
