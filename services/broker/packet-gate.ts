// Sits between a TCP socket and aedes. aedes (mqtt-packet) buffers a packet until all of its announced
// bytes have arrived, before authentication, so one client announcing a 256 MiB CONNECT could make the
// process hold 256 MiB. The gate reads only the fixed headers as the bytes pass through and closes the
// socket as soon as an announced length is over the limit; it never holds bytes itself. [MQTT-2.2.3]

import { Duplex } from 'node:stream';

export interface Oversize {
  /** MQTT control packet type (1 CONNECT, 3 PUBLISH …) */
  type: number;
  /** fixed header + remaining length, as announced */
  bytes: number;
  /** the PUBLISH topic when it arrived in the same read as the header */
  topic?: string;
}

/**
 * A CONNECT is the only packet read before login; real ones are well under 1 KiB (client id, username,
 * password, a small will), so before login a packet may be at most this large, whatever the limit after.
 */
export const MAX_CONNECT_BYTES = 64 * 1024;

/** Walks fixed headers across chunk boundaries; only counts, never copies. */
export class FixedHeaderScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private packets = 0;
  private type = 0;
  private length = 0;
  private mult = 1;
  private lengthBytes = 0;
  private left = 0;

  constructor(private max: number) {}

  /** Returns the oversize packet this chunk announces, or an error text for a malformed length, or null. */
  scan(chunk: Buffer): Oversize | string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const n = Math.min(this.left, chunk.length - i);
        this.left -= n;
        i += n;
        if (this.left === 0) this.state = 'type';
        continue;
      }
      const b = chunk[i++];
      if (this.state === 'type') {
        this.type = b >> 4;
        this.length = 0;
        this.mult = 1;
        this.lengthBytes = 0;
        this.state = 'length';
        continue;
      }
      // remaining length: 1–4 bytes, 7 bits each, least significant first [MQTT-2.2.3]
      this.length += (b & 0x7f) * this.mult;
      this.mult *= 128;
      if (++this.lengthBytes > 4) return 'malformed remaining length';
      if (b & 0x80) continue;
      const total = 1 + this.lengthBytes + this.length;
      if (total > (this.packets++ === 0 ? Math.min(this.max, MAX_CONNECT_BYTES) : this.max))
        return { type: this.type, bytes: total, topic: this.type === 3 ? topicAt(chunk, i) : undefined };
      this.left = this.length;
      this.state = this.left ? 'body' : 'type';
    }
    return null;
  }
}

function topicAt(chunk: Buffer, i: number): string | undefined {
  if (i + 2 > chunk.length) return undefined;
  const n = chunk.readUInt16BE(i);
  return i + 2 + n <= chunk.length ? chunk.toString('utf8', i + 2, i + 2 + n) : undefined;
}

/**
 * A duplex over the socket that aedes reads from and writes to. Socket backpressure is kept: the socket
 * is paused whenever aedes has not read what was passed on.
 */
export class GatedSocket extends Duplex {
  private scanner: FixedHeaderScanner;

  constructor(
    readonly socket: Duplex & { remoteAddress?: string },
    max: number,
    onRefused: (why: Oversize | string) => void,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new FixedHeaderScanner(max);
    socket.on('data', (chunk: Buffer) => {
      const bad = this.scanner.scan(chunk);
      if (bad) {
        socket.pause();
        onRefused(bad);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress() {
    return this.socket.remoteAddress;
  }

  override _read() {
    this.socket.resume();
  }

  /** Packets written in one turn of the event loop (a committed batch's PUBACKs) leave in one write: the
   *  socket is corked at the first and uncorked once the turn's callbacks have run. One system call per
   *  packet was the largest single cost of ingest (each wakes the peer). */
  private corked = false;

  private flush() {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  override _write(chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void) {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => this.flush());
    }
    // the next packet may follow at once while the socket takes it; past its high-water mark wait for drain
    if (this.socket.write(chunk, enc)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (e?: Error | null) => void) {
    this.flush();
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void) {
    // what was written before (a refusing CONNACK, the last PUBACKs) still leaves before the socket closes
    this.flush();
    this.socket.destroy();
    cb(err);
  }
}
