// Embedded aedes broker: authenticated clients only, per-credential publish and subscribe ACLs, client ids
// bound to credentials, PUBACK after commit. [docs/security.md]
// aedes sends PUBACK only once authorizePublish calls back, so we call back after the uplink is stored. [docs/guarantees.md]
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { topicDevice } from '../auth/mqtt-acl.ts';
import type { MqttClientIds } from '../auth/mqtt-client-ids.ts';
import type { MqttCredentialStore } from '../auth/mqtt-credential-store.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import { StartError } from '../errors.ts';
import type { RawMessage } from '../ingest/types.ts';
import { GatedSocket, type Oversize, ReadBudget } from './packet-gate.ts';
import { startTlsListener, type TlsFiles, type TlsListener } from './tls-listener.ts';

export interface BrokerDeps {
  credentials: MqttCredentialStore;
  clientIds: MqttClientIds;
  /** a municipality's credential reaches only topics of its own devices */
  devices: DeviceRegistry;
  /** resolves once the message is durably stored (as readings or as a rejected uplink) */
  ingest: (msg: RawMessage) => Promise<unknown>;
  /** records a refused publish so an integrator can see why */
  refused: (msg: RawMessage, reason: 'acl_denied' | 'too_large', message: string) => Promise<unknown>;
  log: Logger;
  /** a packet announcing more bytes closes its connection before they are read [README.md Configuration: MQTT_MAX_PACKET_BYTES] */
  maxPacketBytes: number;
  /** a socket not authenticated by then is closed */
  connectTimeoutMs: number;
  /** unauthenticated sockets one source address may hold open at once */
  maxPendingPerAddress: number;
  /** a client producing more rejected uplinks than this per 10 s is disconnected (it can reconnect) */
  maxRejectsPer10s?: number;
  /** the MQTTS listener, besides the plain one */
  tls?: TlsFiles & { port: number };
  /** publishes read and not yet acknowledged, over all connections / their bytes / per connection: past these a
   *  socket is not read until its turn comes [README.md Configuration: MQTT_MAX_UNACKED] */
  maxUnacked?: number;
  maxUnackedBytes?: number;
  maxUnackedPerClient?: number;
}

/** MQTT_MAX_UNACKED: as many as the ingest works on at once (INGEST_MAX_IN_FLIGHT), so none waits unread there */
export const DEFAULT_MAX_UNACKED = 4096;
/** MQTT_MAX_UNACKED_BYTES */
export const DEFAULT_MAX_UNACKED_BYTES = 16 * 1024 * 1024;
/** MQTT_MAX_UNACKED_PER_CLIENT */
export const DEFAULT_MAX_UNACKED_PER_CLIENT = 64;

/** For benches only (bench/broker-options.ts): extra aedes options, and the fan-out switch, for brokers started
 *  from then on. Empty in a server. */
export const aedesTuning: { options?: Record<string, unknown>; fanOut?: 'always' } = {};

export interface RunningBroker {
  port: number;
  url: string;
  /** mqtts://host:port when the TLS listener runs */
  tlsUrl?: string;
  /** graceful drain: no new connections; uplinks in hand stored and acknowledged, then every client closed
   *  (devices reconnect to another instance); at most timeoutMs */
  drain(timeoutMs: number): Promise<void>;
  /** publishes read and not yet acknowledged, and connections whose socket is not read until there is room */
  unacked(): { publishes: number; bytes: number; waitingConnections: number };
  /** one more connection from another transport (MQTT over WebSockets); same login, ACL and PUBACK after commit */
  accept(stream: Duplex, remoteAddress: string | undefined): void;
  clients(): number;
  close(): Promise<void>;
}

export async function startBroker(host: string, port: number, deps: BrokerDeps): Promise<RunningBroker> {
  const log = deps.log.child({ component: 'broker' });
  const maxRejects = deps.maxRejectsPer10s ?? 500;
  const rejects = new WeakMap<Client, { since: number; n: number }>();
  // A misbehaving integration must not flood the rejected-uplinks log or slow down the good clients.
  const countReject = (client: Client) => {
    const now = Date.now();
    let r = rejects.get(client);
    if (!r || now - r.since > 10_000) rejects.set(client, (r = { since: now, n: 0 }));
    if (++r.n === maxRejects) {
      log.warn({ clientId: client.id, rejects: r.n }, 'too many rejected uplinks from this client, disconnecting it');
      setImmediate(() => client.close());
    }
  };
  const connected = new Map<string, Set<Client>>();
  let inHand = 0;
  let draining = false;
  const logins = new WeakMap<Client, Login>();
  const gates = new WeakMap<Client, Gate>();
  // a connection we hold back is not read, so its PINGREQs are not either: its keepalive must not run out meanwhile
  const budget = new ReadBudget(
    deps.maxUnacked ?? DEFAULT_MAX_UNACKED,
    deps.maxUnackedBytes ?? DEFAULT_MAX_UNACKED_BYTES,
    deps.maxUnackedPerClient ?? DEFAULT_MAX_UNACKED_PER_CLIENT,
    (gate) => (gate as Gate).client?._keepaliveTimer?.refresh(),
  );
  /** the publish's room in the read budget is free again (not for a will, which no connection sent now) */
  const settle = (client: Client, packet: PublishPacket) => {
    if (packet !== (client as { will?: unknown }).will) gates.get(client)?.settled();
  };
  // a deleted credential or a changed password ends the connections made with it, at once
  deps.credentials.onRevoked((username) => {
    deps.clientIds.forget(username);
    for (const c of connected.get(username) ?? []) {
      log.info({ clientId: c.id, username }, 'credential deleted or rotated, closing its connection');
      c.close();
    }
  });
  /** for a municipality's credential: does the device this topic names (still) belong to it? */
  const ownTopic = (username: string | undefined, topic: string) => {
    const org = deps.credentials.orgOf(username);
    return org === null || (org !== undefined && topicDevice(deps.devices, topic)?.org === org);
  };
  // Once any client of this broker was granted a subscription, every publish goes through aedes' fan-out;
  // until then a device's uplink has no one to reach and its publish ends with the PUBACK (see below).
  let anySubscription = false;
  const aedes = await Aedes.createBroker({
    concurrency: 1000,
    ...aedesTuning.options,
    connectTimeout: deps.connectTimeoutMs,
    authenticate: (client: Client, username: Readonly<string> | undefined, password: Readonly<Buffer> | undefined, done) => {
      const refuse = (returnCode: number, message: string) => {
        const e = new Error(message) as AuthenticateError;
        e.returnCode = returnCode;
        done(e, false);
      };
      const login = logins.get(client);
      const generatedId = login?.generatedId;
      // over TLS with a client certificate the CA signed, its CN names the credential; no password needed
      const certCn = gates.get(client)?.certCn;
      if (certCn && username && username !== certCn) {
        log.warn({ clientId: client.id, username, certCn }, 'MQTT username differs from the client certificate, login refused');
        return refuse(5, 'not authorized');
      }
      (certCn ? deps.credentials.exists(certCn) : deps.credentials.check(username, password as Buffer | undefined))
        .then(async (ok) => {
          if (!ok) {
            log.warn({ clientId: client.id, username, certCn }, 'MQTT login refused');
            return refuse(4, 'bad username or password');
          }
          if (certCn && login) login.user = certCn;
          username = certCn ?? username;
          // [MQTT-3.1.4-2] takeover only by the credential that owns the id; a generated id belongs to no one
          if (!generatedId && !(await deps.clientIds.claim(client.id, username as string))) {
            log.warn({ clientId: client.id, username }, 'client id belongs to another credential, login refused');
            return refuse(5, 'not authorized');
          }
          done(null, true);
        })
        .catch((err: Error) => {
          log.error({ err: err.message }, 'credential check failed');
          refuse(3, 'server unavailable');
        });
    },
    authorizePublish: (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void) => {
      if (!client) return done(null);
      const username = logins.get(client)?.user;
      const msg: RawMessage = { topic: packet.topic, payload: packet.payload as Buffer, source: 'broker', clientId: client.id, receivedAt: Date.now() };
      if (!deps.credentials.mayPublish(username, packet.topic) || !ownTopic(username, packet.topic)) {
        log.warn({ clientId: client.id, username, topic: packet.topic }, 'publish outside ACL refused');
        // Recorded, then the client is disconnected (MQTT 3.1.1 has no negative PUBACK).
        deps.refused(msg, 'acl_denied', `credential '${username}' may not publish to '${packet.topic}'`).finally(() => {
          settle(client, packet);
          done(new Error('not authorized'));
        });
        return;
      }
      inHand++;
      deps.ingest(msg).then(
        (outcome) => {
          inHand--;
          if (outcome === 'rejected') countReject(client);
          settle(client, packet);
          done(null);
        },
        (err: Error) => {
          inHand--;
          settle(client, packet);
          log.warn({ clientId: client.id, err: err.message }, 'uplink not stored, not acknowledged');
          done(err);
        },
      );
    },
    // An intake, not a message bus: denied unless the credential's subscribe patterns cover the filter.
    authorizeSubscribe: (client, sub, done) => {
      const username = logins.get(client)?.user;
      if (deps.credentials.maySubscribe(username, sub.topic)) {
        anySubscription = true;
        return done(null, sub);
      }
      log.warn({ clientId: client.id, username, filter: sub.topic.slice(0, 200) }, 'subscription refused');
      done(null, null); // SUBACK 0x80 [MQTT-3.9.3]
    },
    authorizeForward: (client, packet) => (ownTopic(logins.get(client)?.user, packet.topic) ? packet : null),
  });
  // aedes passes every publish on to its subscribers after the PUBACK (Aedes.publish: the retained store,
  // offline queues via the persistence's subscription lookup, mqemitter's match, the 'publish' event): with no
  // subscription granted in this broker there is no one to pass an uplink to, so a client's non-retained publish
  // ends there. Retained ones are still stored for later subscribers; the broker's own $SYS publishes (no
  // client) keep the whole path. Nothing here listens to aedes' 'publish' event or `published` hook.
  type Done = (err?: Error) => void;
  const fanOut = aedes.publish.bind(aedes) as (packet: PublishPacket, client?: Client | null | Done, done?: Done) => void;
  const publish: typeof fanOut = (packet, client, done) => {
    if (typeof client === 'object' && client && !anySubscription && !packet.retain && packet.topic[0] !== '$' && aedesTuning.fanOut !== 'always')
      return void done?.();
    fanOut(packet, client, done);
  };
  Object.assign(aedes, { publish });
  aedes.on('client', (c) => {
    const u = logins.get(c)?.user ?? '';
    let set = connected.get(u);
    if (!set) connected.set(u, (set = new Set()));
    set.add(c);
  });
  aedes.on('clientDisconnect', (c) => {
    const u = logins.get(c)?.user ?? '';
    connected.get(u)?.delete(c);
    if (connected.get(u)?.size === 0) connected.delete(u);
  });
  aedes.on('client', (c) => log.debug({ clientId: c.id }, 'client connected'));
  aedes.on('clientError', (c, err) => log.debug({ clientId: c.id, err: err.message }, 'client error'));
  // remember the username on the client for ACL checks
  aedes.preConnect = (client, packet, done) => {
    logins.set(client, { user: packet.username, generatedId: !packet.clientId });
    done(null, true);
  };

  const admit = admission(deps, log, budget, (gate, why) => {
    const client = gate.client;
    if (typeof why === 'string' || why.type !== 3 || !client?.connected) return;
    // an authenticated client learns why its connection closed, as for every other refused uplink
    const msg: RawMessage = { topic: why.topic ?? '', payload: Buffer.alloc(0), source: 'broker', clientId: client.id, receivedAt: Date.now() };
    deps
      .refused(msg, 'too_large', `MQTT packet of ${why.bytes} bytes exceeds MQTT_MAX_PACKET_BYTES (${deps.maxPacketBytes}); connection closed`)
      .catch(() => {});
  });
  aedes.on('client', (c) => gates.get(c)?.authenticated?.());
  const accept = (sock: GateSource, certCn?: string) => {
    if (draining) return void sock.destroy();
    const gate = admit(sock);
    if (gate) {
      gate.certCn = certCn;
      gate.client = aedes.handle(gate as never) as Client;
      gates.set(gate.client, gate);
    }
  };
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    accept(sock);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new StartError(
              'PORT_IN_USE',
              `MQTT port ${port} on ${host} is already in use; choose another with MQTT_PORT=<port> (0 = any free port) or MQTT_PORT=off`,
            )
          : e,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as net.AddressInfo).port;
  let secure: TlsListener | undefined;
  try {
    secure = deps.tls ? await startTlsListener(host, deps.tls.port, deps.tls, (sock, cn) => accept(sock, cn), log) : undefined;
  } catch (e) {
    await new Promise<void>((r) => server.close(() => r()));
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new StartError(
        'PORT_IN_USE',
        `MQTTS port ${deps.tls?.port} on ${host} is already in use; choose another with MQTTS_PORT=<port> (0 = any free port) or MQTTS_PORT=off`,
      );
    throw e;
  }
  return {
    port: actual,
    url: `mqtt://${host}:${actual}`,
    tlsUrl: secure ? `mqtts://${host}:${secure.port}` : undefined,
    accept: (stream, remoteAddress) => accept(Object.assign(stream, { remoteAddress })),
    async drain(timeoutMs) {
      draining = true;
      server.close();
      const until = Date.now() + timeoutMs;
      while (inHand > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      // let the last PUBACKs leave before the sockets close
      await new Promise((r) => setTimeout(r, 50));
      log.info({ left: inHand }, 'broker drained, closing client connections');
      await new Promise<void>((r) => aedes.close(() => r()));
    },
    clients: () => aedes.connectedClients,
    unacked: () => ({ publishes: budget.used, bytes: budget.usedBytes, waitingConnections: budget.waitingConnections }),
    async close() {
      await new Promise<void>((r) => aedes.close(() => r()));
      await Promise.all([new Promise<void>((r) => (server.listening ? server.close(() => r()) : r())), secure?.close()]);
    },
  };
}

/** what we keep about an aedes client: who logged in, and whether aedes generated its client id */
interface Login {
  user?: string;
  generatedId: boolean;
}

type Gate = GatedSocket & { client?: Client & { _keepaliveTimer?: NodeJS.Timeout | null }; authenticated?: () => void; certCn?: string };
type GateSource = ConstructorParameters<typeof GatedSocket>[0];

/**
 * What holds before authentication: at most maxPendingPerAddress unauthenticated sockets per source
 * address, each authenticated within connectTimeoutMs, no packet over maxPacketBytes.
 */
function admission(deps: BrokerDeps, log: Logger, budget: ReadBudget, oversize: (gate: Gate, why: Oversize | string) => void) {
  const pending = new Map<string, number>();
  return (sock: GateSource): Gate | undefined => {
    const addr = sock.remoteAddress ?? '?';
    const n = pending.get(addr) ?? 0;
    if (n >= deps.maxPendingPerAddress) {
      log.warn({ addr, pending: n }, 'too many unauthenticated MQTT connections from this address, closing the new one');
      sock.destroy();
      return undefined;
    }
    pending.set(addr, n + 1);
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      const m = (pending.get(addr) ?? 1) - 1;
      if (m > 0) pending.set(addr, m);
      else pending.delete(addr);
    };
    const gate: Gate = new GatedSocket(
      sock,
      deps.maxPacketBytes,
      (why) => {
        log.warn(
          { addr, clientId: gate.client?.id, why: typeof why === 'string' ? why : `packet type ${why.type} of ${why.bytes} bytes` },
          'MQTT packet over the limit, connection closed',
        );
        oversize(gate, why);
      },
      budget,
    );
    gate.authenticated = settle;
    const deadline = setTimeout(() => {
      log.warn({ addr }, 'MQTT connection not authenticated in time, closed');
      gate.destroy();
    }, deps.connectTimeoutMs);
    sock.once('close', settle);
    return gate;
  };
}
