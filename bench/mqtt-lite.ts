// A minimal MQTT 3.1.1 client for load generation: CONNECT, SUBSCRIBE, QoS 1 PUBLISH, PUBACK — nothing else.
// Hand-framed so that the load generator costs far less CPU per message than the server it measures
// (mqtt.js spends several times more per publish). Used by the benchmark, and by the broker's backpressure and
// admission tests, which need a client that writes a backlog of publishes at once or raw packet headers.
import net from 'node:net';

/** MQTT remaining-length encoding [MQTT-2.2.3] */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const l = Buffer.alloc(2);
  l.writeUInt16BE(b.length);
  return Buffer.concat([l, b]);
}

export interface LiteOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  /** CONNECT keepalive in seconds; 0 (the default) turns the server's keepalive check off [MQTT-3.1.2-24] */
  keepaliveS?: number;
}

/** One connection. `onAck(id)` for PUBACKs, `onMessage(topic, payload)` for received publishes (QoS 1 acked). */
export class LiteClient {
  private sock!: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  inflight = 0;
  onAck: (id: number) => void = () => {};
  onMessage: (topic: string, payload: Buffer) => void = () => {};
  onClose: (err?: Error) => void = () => {};

  constructor(private o: LiteOptions) {}

  connect(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`CONNACK timeout for ${this.o.clientId}`)), timeoutMs);
      this.sock = net.connect({ host: this.o.host, port: this.o.port });
      this.sock.setNoDelay(true);
      this.sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
        this.onClose(e);
      });
      this.sock.on('close', () => this.onClose());
      let connacked = false;
      this.sock.on('data', (d: Buffer) => {
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
        let off = 0;
        while (this.buf.length - off >= 2) {
          const type = this.buf[off] >> 4;
          const flags = this.buf[off] & 0x0f;
          let len = 0;
          let mul = 1;
          let i = off + 1;
          let complete = false;
          for (; i < this.buf.length && i < off + 5; i++) {
            len += (this.buf[i] & 0x7f) * mul;
            mul *= 128;
            if ((this.buf[i] & 0x80) === 0) {
              complete = true;
              i++;
              break;
            }
          }
          if (!complete || this.buf.length - i < len) break;
          const body = this.buf.subarray(i, i + len);
          off = i + len;
          if (type === 2) {
            clearTimeout(timer);
            if (body[1] !== 0) {
              reject(new Error(`CONNACK return code ${body[1]} for ${this.o.clientId}`));
              this.sock.destroy();
              return;
            }
            connacked = true;
            resolve();
          } else if (type === 4) {
            this.inflight--;
            this.onAck(body.readUInt16BE(0));
          } else if (type === 3) {
            const qos = (flags >> 1) & 3;
            const tl = body.readUInt16BE(0);
            const topic = body.toString('utf8', 2, 2 + tl);
            let p = 2 + tl;
            if (qos > 0) {
              const id = body.readUInt16BE(p);
              p += 2;
              this.sock.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
            }
            this.onMessage(topic, body.subarray(p));
          }
        }
        this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
        void connacked;
      });
      const flagsByte = 0x02 | (this.o.username ? 0x80 : 0) | (this.o.password ? 0x40 : 0);
      const ka = this.o.keepaliveS ?? 0;
      const payload = Buffer.concat([
        Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flagsByte, ka >> 8, ka & 0xff]),
        str(this.o.clientId),
        ...(this.o.username ? [str(this.o.username)] : []),
        ...(this.o.password ? [str(this.o.password)] : []),
      ]);
      this.sock.write(Buffer.concat([Buffer.from([0x10]), varint(payload.length), payload]));
    });
  }

  subscribe(filter: string, qos: 0 | 1 = 1) {
    const body = Buffer.concat([Buffer.from([0, 1]), str(filter), Buffer.from([qos])]);
    this.sock.write(Buffer.concat([Buffer.from([0x82]), varint(body.length), body]));
  }

  /** QoS 1 publish; returns the packet id. `topic` pre-encoded with its length prefix is cheapest. */
  publish(topic: Buffer, payload: Buffer): number {
    const id = this.nextId;
    this.nextId = id === 65535 ? 1 : id + 1;
    const rem = topic.length + 2 + payload.length;
    const head = Buffer.allocUnsafe(1 + (rem < 128 ? 1 : rem < 16384 ? 2 : 3) + topic.length + 2);
    head[0] = 0x32;
    let o = 1;
    let n = rem;
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      head[o++] = b;
    } while (n > 0);
    topic.copy(head, o);
    o += topic.length;
    head.writeUInt16BE(id, o);
    this.sock.cork();
    this.sock.write(head);
    this.sock.write(payload);
    process.nextTick(() => this.sock.uncork());
    this.inflight++;
    return id;
  }

  end() {
    this.sock?.end(Buffer.from([0xe0, 0x00]));
  }

  /** drops the connection without DISCONNECT */
  destroy() {
    this.sock?.destroy();
  }
}

export const topicBuf = (t: string) => str(t);
