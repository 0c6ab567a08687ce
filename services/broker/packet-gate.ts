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
 * What the broker has read from all its connections and not yet answered: PUBLISH packets handed to aedes
 * whose uplink is not stored (or refused) yet. aedes parses every byte it is given at once, and each parsed
 * publish holds a packet, its payload and a waiting uplink until its commit, so memory is bounded by what is
 * handed over, not by what is worked on. Past a bound a connection's socket is simply not read: its bytes stay
 * in the kernel and TCP backpressure reaches the device. Connections waiting for room are served in arrival
 * order (round robin: one that still has more goes to the back), so a busy device cannot starve a quiet one.
 * [README.md Configuration: MQTT_MAX_UNACKED]
 */
export class ReadBudget {
  /** publishes handed over and not settled, all connections */
  used = 0;
  /** their announced bytes */
  usedBytes = 0;
  /** connections holding back a publish until there is room, in arrival order */
  private waiting = new Set<GatedSocket>();
  /** connections holding back bytes for any reason (room, their own bound, aedes not reading) */
  readonly holding = new Set<GatedSocket>();
  private sweep?: NodeJS.Timeout;

  constructor(
    /** publishes in hand at most, all connections */
    readonly total: number,
    /** their bytes at most (one publish alone is always let through) */
    readonly totalBytes: number,
    /** publishes in hand at most per connection */
    readonly perConnection: number,
    /** called about once a second for each connection held back by us: keeps its keepalive from running out */
    private keepAlive: (gate: GatedSocket) => void = () => {},
  ) {
    if (!(total >= 1 && perConnection >= 1 && totalBytes >= 1)) throw new RangeError('read budget bounds must be at least 1');
  }

  /** connections waiting for room */
  get waitingConnections(): number {
    return this.waiting.size;
  }

  /** May `gate` hand over one more publish of `bytes`? Takes the room if so. Strictly first come, first served. */
  take(gate: GatedSocket, bytes: number): boolean {
    const first = this.waiting.values().next().value;
    if (first !== undefined && first !== gate) return this.wait(gate);
    if (this.used >= this.total || (this.used > 0 && this.usedBytes + bytes > this.totalBytes)) return this.wait(gate);
    this.waiting.delete(gate);
    this.used++;
    this.usedBytes += bytes;
    return true;
  }

  /** room taken whatever the bounds (a publish whose first byte was already passed on) */
  force(bytes: number): void {
    this.used++;
    this.usedBytes += bytes;
  }

  private wait(gate: GatedSocket): false {
    this.waiting.add(gate);
    return false;
  }

  /** `n` publishes of `bytes` settled (stored, refused, or their connection closed): the next waiting go on. */
  give(n: number, bytes: number): void {
    this.used -= n;
    this.usedBytes -= bytes;
    // the waiting connections in turn (one that still has more goes to the back), until the head finds no room
    for (let k = this.waiting.size; k > 0 && this.used < this.total; k--) {
      const head = this.waiting.values().next().value;
      if (head === undefined) break;
      head.release();
      if (this.waiting.values().next().value === head) break;
    }
  }

  forget(gate: GatedSocket): void {
    this.waiting.delete(gate);
    this.hold(gate, false);
  }

  hold(gate: GatedSocket, on: boolean): void {
    if (on) {
      this.holding.add(gate);
      if (!this.sweep) {
        this.sweep = setInterval(() => {
          for (const g of this.holding) this.keepAlive(g);
          if (this.holding.size === 0) {
            clearInterval(this.sweep);
            this.sweep = undefined;
          }
        }, 1000);
        this.sweep.unref();
      }
    } else this.holding.delete(gate);
  }
}

/** Finds packet starts in a byte stream across chunk boundaries: type, flags and announced size of each. */
class PacketSplitter {
  private state: 'type' | 'length' | 'body' = 'type';
  private first = 0;
  private length = 0;
  private mult = 1;
  private lengthBytes = 0;
  private left = 0;

  /**
   * Walks `chunk`; `admit(bytes, force)` is asked at each PUBLISH once its length is known (refused, the
   * packet's first byte is at the returned offset). Returns the offset to stop at, or chunk.length.
   */
  walk(chunk: Buffer, admit: (bytes: number, force: boolean) => boolean): number {
    let i = 0;
    let start = this.state === 'type' ? 0 : -1; // first byte of the packet being read (-1: in an earlier chunk)
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
        start = i - 1;
        this.first = b;
        this.length = 0;
        this.mult = 1;
        this.lengthBytes = 0;
        this.state = 'length';
        continue;
      }
      this.length += (b & 0x7f) * this.mult;
      this.mult *= 128;
      if (++this.lengthBytes > 4 || b & 0x80) continue; // a malformed length is the scanner's to refuse
      const bytes = 1 + this.lengthBytes + this.length;
      // a publish whose first byte was passed on with an earlier read is taken whatever the room
      if (this.first >> 4 === 3 && !admit(bytes, start < 0)) {
        this.state = 'type'; // read again from its first byte when there is room
        return start;
      }
      this.left = this.length;
      this.state = this.left ? 'body' : 'type';
    }
    return chunk.length;
  }
}

/**
 * A duplex over the socket that aedes reads from and writes to. Socket backpressure is kept: the socket
 * is paused whenever aedes has not read what was passed on. With a read budget, a PUBLISH is passed on only
 * when there is room for it; until then it and what follows stay here and the socket is paused.
 */
export class GatedSocket extends Duplex {
  private scanner: FixedHeaderScanner;
  private splitter?: PacketSplitter;
  /** bytes read from the socket and not passed on yet (at most what one read brought, the socket is paused) */
  private held: Buffer[] = [];
  /** announced sizes of the publishes passed on and not settled, oldest first */
  private inHand: number[] = [];
  private inHandBytes = 0;

  constructor(
    readonly socket: Duplex & { remoteAddress?: string },
    max: number,
    onRefused: (why: Oversize | string) => void,
    private budget?: ReadBudget,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new FixedHeaderScanner(max);
    if (budget) this.splitter = new PacketSplitter();
    socket.on('data', (chunk: Buffer) => {
      const bad = this.scanner.scan(chunk);
      if (bad) {
        socket.pause();
        onRefused(bad);
        this.destroy();
        return;
      }
      if (!this.splitter) {
        if (!this.push(chunk)) socket.pause();
        return;
      }
      this.held.push(chunk);
      this.release();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress() {
    return this.socket.remoteAddress;
  }

  /** publishes passed on and not settled */
  get unacknowledged(): number {
    return this.inHand.length;
  }

  /** Passes on held bytes up to the first publish there is no room for; pauses the socket while any are held. */
  release(): void {
    const budget = this.budget as ReadBudget;
    const splitter = this.splitter as PacketSplitter;
    const admit = (bytes: number, force: boolean) => {
      if (force) budget.force(bytes);
      else if (this.inHand.length >= budget.perConnection || !budget.take(this, bytes)) return false;
      this.inHand.push(bytes);
      this.inHandBytes += bytes;
      return true;
    };
    while (this.held.length && !this.destroyed) {
      const chunk = this.held[0];
      const stop = splitter.walk(chunk, admit);
      if (stop === chunk.length) {
        this.held.shift();
        if (!this.push(chunk)) break;
        continue;
      }
      if (stop > 0) {
        this.held[0] = chunk.subarray(stop);
        this.push(chunk.subarray(0, stop));
      }
      break;
    }
    if (this.held.length) {
      this.socket.pause();
      budget.hold(this, true);
    } else budget.hold(this, false);
  }

  /** The oldest publish passed on is settled (its uplink stored or refused): room for the next. */
  settled(): void {
    const bytes = this.inHand.shift();
    if (bytes === undefined) return;
    this.inHandBytes -= bytes;
    this.budget?.give(1, bytes);
    if (this.held.length && !this.destroyed) this.release();
  }

  override _read() {
    if (this.held.length) this.release();
    else this.socket.resume();
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
    if (this.budget) {
      this.held = [];
      this.budget.forget(this);
      const n = this.inHand.length;
      this.inHand = [];
      if (n) this.budget.give(n, this.inHandBytes);
      this.inHandBytes = 0;
    }
    this.socket.destroy();
    cb(err);
  }
}
