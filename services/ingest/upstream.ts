// Subscription to an external broker (ChirpStack's, TTS's, EMQX). Persistent session, QoS 1, and the
// PUBACK only after the uplink is stored: mqtt.js sends it when handleMessage calls back. [docs/topics.md, docs/guarantees.md]
import fs from 'node:fs';
import os from 'node:os';
import mqtt, { type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';
import type { RawMessage } from './types.ts';

export const UPSTREAM_TOPICS = ['application/+/device/+/event/up', 'v3/+/devices/+/up', 'devices/+/up'];

export interface Upstream {
  ready(): boolean;
  /** graceful drain: unsubscribe (the broker sends the group's uplinks to the other members), store and
   *  acknowledge what is in flight, then disconnect; at most timeoutMs */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface UpstreamTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** mqtts:// to a broker with a private CA (and a client certificate if it wants one); read at connect time. */
export function upstreamTlsOptions(tls: UpstreamTls | undefined): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  if (!tls) return {};
  const read = (f?: string) => (f ? fs.readFileSync(f) : undefined);
  return { ca: read(tls.caFile), cert: read(tls.certFile), key: read(tls.keyFile) };
}

/** mqtt.js's packet writer, as its source defines it */
type SendPacket = (packet: Packet, cb?: () => void) => void;

export function startUpstream(
  opts: { url: string; username?: string; password?: string; shareGroup?: string; clientId?: string; tls?: UpstreamTls },
  ingest: (m: RawMessage) => Promise<unknown>,
  log: Logger,
): Upstream {
  const l = log.child({ component: 'upstream' });
  const clientId = opts.clientId ?? `regenwacht-${os.hostname()}`.slice(0, 23);
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId,
    username: opts.username,
    password: opts.password,
    // Alone, a persistent session: the broker queues uplinks while we restart. In a $share group a clean
    // start: a member that is gone must leave the group at once, or the broker keeps routing its share to the
    // dead session (Mosquitto #1747). [docs/operations.md]
    clean: !!opts.shareGroup,
    protocolVersion: opts.shareGroup ? 5 : 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...upstreamTlsOptions(opts.tls),
  });
  let connected = false;
  let inFlight = 0;
  let lastMessage = 0;
  // mqtt.js handles one incoming packet at a time and sends its PUBACK when handleMessage calls back, so
  // waiting there for our commit would serialise the subscription to one message per commit (~500 msgs/s;
  // a broker with a bounded queue, like Mosquitto's default 1000, then drops the rest of a burst). Instead
  // handleMessage returns at once and the PUBACK mqtt.js then sends is held back until the uplink is stored.
  const held = new Set<number>();
  const ready = new Map<number, () => void>();
  // Every outgoing packet passes mqtt.js's private _sendPacket (it has no public hook for PUBACKs): wrapped
  // through Reflect, which types it as unknown until it is checked to be a function.
  const original: unknown = Reflect.get(client, '_sendPacket');
  if (typeof original !== 'function') throw new Error('mqtt.js has no _sendPacket: holding PUBACKs until the commit needs another hook');
  const send: SendPacket = (p, cb) => original.call(client, p, cb);
  const hold: SendPacket = (p, cb) => {
    if (p.cmd === 'puback' && p.messageId !== undefined && held.has(p.messageId)) {
      const id = p.messageId;
      held.delete(id);
      ready.set(id, () => send(p));
      cb?.();
      return;
    }
    send(p, cb);
  };
  Reflect.set(client, '_sendPacket', hold);
  client.handleMessage = (packet, done) => {
    const msg: RawMessage = { topic: packet.topic, payload: packet.payload as Buffer, source: 'upstream', clientId: 'upstream', receivedAt: Date.now() };
    const id = packet.qos > 0 ? packet.messageId : undefined;
    if (id !== undefined) held.add(id);
    const conn = client.stream; // a PUBACK from before a reconnect must not go out on the new connection
    inFlight++;
    lastMessage = Date.now();
    ingest(msg)
      .finally(() => inFlight--)
      .then(
        () => {
          if (id === undefined) return;
          held.delete(id);
          const ack = ready.get(id);
          ready.delete(id);
          if (ack && client.connected && client.stream === conn) ack();
        },
        (err: Error) => {
          if (id !== undefined) {
            held.delete(id);
            ready.delete(id);
          }
          // Not stored → no PUBACK; the broker redelivers this session's message after we reconnect.
          l.warn({ err: err.message }, 'upstream uplink not stored; reconnecting so the broker redelivers');
          client.end(true, () => client.reconnect());
        },
      );
    done();
  };
  client.on('connect', (ack) => {
    connected = true;
    l.info({ url: redactUrl(opts.url), sessionPresent: ack.sessionPresent }, 'connected to upstream broker');
    client.subscribe(topics(), { qos: 1 }, (err) => {
      if (err) l.error({ err: err.message }, 'upstream subscribe failed');
    });
  });
  client.on('close', () => {
    if (connected) l.warn('upstream connection closed, reconnecting');
    connected = false;
  });
  client.on('error', (err) => l.warn({ err: err.message }, 'upstream error'));
  const topics = () => UPSTREAM_TOPICS.map((t) => (opts.shareGroup ? `$share/${opts.shareGroup}/${t}` : t));
  return {
    ready: () => connected,
    async drain(timeoutMs) {
      const until = Date.now() + timeoutMs;
      if (client.connected) await new Promise<void>((r) => client.unsubscribe(topics(), () => r()));
      // What the broker had already sent or queued for this session still arrives; each is stored and
      // acknowledged. Leaving earlier would lose them: a clean session's unacknowledged QoS 1 messages are
      // dropped by Mosquitto when it disconnects (eclipse/mosquitto#2662). [docs/operations.md]
      while (Date.now() < until && (inFlight > 0 || held.size > 0 || Date.now() - lastMessage < 500)) await new Promise((r) => setTimeout(r, 50));
      l.info({ left: inFlight }, 'upstream drained');
      await new Promise<void>((r) => client.end(false, {}, () => r()));
    },
    close: () => new Promise((r) => client.end(false, {}, () => r())),
  };
}

const redactUrl = (u: string) => u.replace(/\/\/[^@/]*@/, '//***@');
