// Benchmark load generator, run as a child process so it does not share the server's event loop.
// Modes (argv[2]): relay | load | probe | brokerprobe. Talks to bench.ts over IPC; every loop is bounded in count and time.
import http from 'node:http';
import { LiteClient, topicBuf } from './mqtt-lite.ts';

const mode = process.argv[2];
const send = (m: unknown) => process.send?.(m);
const log = (s: string) => process.stderr.write(`[bench:${mode}] ${s}\n`);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Cmd {
  cmd: string;
  [k: string]: unknown;
}
const commands: Array<(c: Cmd) => void> = [];
process.on('message', (c: Cmd) => {
  for (const f of commands) f(c);
});
const next = (cmd: string) => new Promise<Cmd>((res) => commands.push((c) => c.cmd === cmd && res(c)));

function pct(xs: number[], p: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const r2 = (x: number) => Math.round(x * 100) / 100;

/** one publisher → one subscriber through a plain broker, QoS 1 both ways */
async function relay(o: { port: number; messages: number; window: number; maxMs: number }) {
  const sub = new LiteClient({ host: '127.0.0.1', port: o.port, clientId: 'relay-sub' });
  const pub = new LiteClient({ host: '127.0.0.1', port: o.port, clientId: 'relay-pub' });
  await sub.connect();
  await pub.connect();
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  sub.onMessage = () => {
    if (++received >= o.messages) done();
  };
  sub.subscribe('relay/+/up', 1);
  await sleep(200);
  const topic = topicBuf('relay/1/up');
  const body = Buffer.from(JSON.stringify({ time: new Date().toISOString(), readings: { temperature_c: 12.5 } }));
  let sent = 0;
  const t0 = now();
  const pump = () => {
    while (pub.inflight < o.window && sent < o.messages) {
      pub.publish(topic, body);
      sent++;
    }
  };
  pub.onAck = pump;
  pump();
  await Promise.race([finished, sleep(o.maxMs)]);
  const ms = now() - t0;
  sub.end();
  pub.end();
  return { received, sent, ms, msgsPerS: Math.round((received / ms) * 1000) };
}

/** many device connections; a burst (as fast as acks allow) or a steady background rate */
async function load(o: { port: number; username: string; password: string; devices: number; prefix: string; baseTime: number }) {
  const conns: LiteClient[] = [];
  const topics: Buffer[] = [];
  const t0 = now();
  const batch = 50;
  for (let i = 0; i < o.devices; i += batch) {
    const group: Promise<void>[] = [];
    for (let j = i; j < Math.min(o.devices, i + batch); j++) {
      const c = new LiteClient({ host: '127.0.0.1', port: o.port, clientId: `${o.prefix}${j}`, username: o.username, password: o.password });
      conns.push(c);
      topics.push(topicBuf(`devices/${o.prefix}${j}/up`));
      group.push(c.connect());
    }
    await Promise.all(group);
  }
  let closed = 0;
  for (const c of conns) c.onClose = () => closed++;
  send({ ev: 'connected', ms: Math.round(now() - t0) });

  // message k of every device: its own time (base + k s), so nothing is a duplicate
  const payloads: Buffer[] = [];
  const payload = (k: number) => {
    let p = payloads[k];
    if (!p) {
      p = Buffer.from(`{"time":"${new Date(o.baseTime + k * 1000).toISOString()}","readings":{"temperature_c":${(10 + (k % 50) / 10).toFixed(1)}}}`);
      payloads[k] = p;
    }
    return p;
  };
  const seq = new Array<number>(conns.length).fill(0);
  let acked = 0;
  let sent = 0;
  const pubAt: Array<Map<number, number>> = conns.map(() => new Map());
  let lat: number[] = [];
  let track = false;
  conns.forEach((c, i) => {
    c.onAck = (id) => {
      acked++;
      if (track) {
        const t = pubAt[i].get(id);
        if (t !== undefined) {
          lat.push(now() - t);
          pubAt[i].delete(id);
        }
      }
      onAck(i);
    };
  });
  let onAck: (i: number) => void = () => {};
  const pub = (i: number) => {
    const id = conns[i].publish(topics[i], payload(seq[i]++));
    sent++;
    if (track) pubAt[i].set(id, now());
  };

  for (;;) {
    const c = await Promise.race([next('burst'), next('rate'), next('stop')]);
    if (c.cmd === 'stop') break;
    if (c.cmd === 'burst') {
      const total = c.messages as number;
      const window = c.window as number;
      const maxMs = c.maxMs as number;
      const start = { acked, sent };
      let limit = start.sent + total;
      const tb = now();
      let last = tb;
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      onAck = (i) => {
        if (sent < limit && conns[i].inflight < window) pub(i);
        if (acked - start.acked >= total) done();
      };
      for (let w = 0; w < window; w++) for (let i = 0; i < conns.length && sent < limit; i++) pub(i);
      const prog = setInterval(() => {
        const t = now();
        log(`${acked - start.acked} acked, ${Math.round(((acked - start.acked) / (t - tb)) * 1000)} msgs/s, in flight ${sent - acked}, closed ${closed}`);
        last = t;
      }, 2000);
      await Promise.race([finished, sleep(maxMs)]);
      limit = sent; // stop publishing; wait (bounded) for the in-flight ones
      const tEnd = now();
      const ackedInTime = acked - start.acked;
      const tw = now();
      while (acked < sent && now() - tw < 15_000) await sleep(20);
      clearInterval(prog);
      void last;
      onAck = () => {};
      send({
        ev: 'burst',
        acked: acked - start.acked,
        sent: sent - start.sent,
        ms: tEnd - tb,
        msgsPerS: Math.round((ackedInTime / (tEnd - tb)) * 1000),
        unacked: sent - acked,
        closed,
      });
    } else if (c.cmd === 'rate') {
      const rate = c.rate as number;
      lat = [];
      track = true;
      const start = { acked, sent };
      const tb = now();
      let rr = 0;
      let stop = false;
      void next('endrate').then(() => (stop = true));
      const maxMs = (c.maxMs as number) ?? 60_000;
      // like devices, every connection keeps at most 8 unacknowledged: a message due while all of them wait
      // is skipped (counted), not queued, so a server that falls behind is not buried under a backlog
      let skipped = 0;
      while (!stop && now() - tb < maxMs) {
        const due = Math.floor(((now() - tb) / 1000) * rate) - (sent - start.sent) - skipped;
        for (let k = 0; k < due; k++) {
          let tries = 0;
          for (; tries < conns.length && conns[rr].inflight >= 8; tries++) rr = (rr + 1) % conns.length;
          if (tries === conns.length) {
            skipped += due - k;
            break;
          }
          pub(rr);
          rr = (rr + 1) % conns.length;
        }
        await sleep(5);
      }
      track = false;
      const ms = now() - tb;
      send({
        ev: 'rate',
        sent: sent - start.sent,
        acked: acked - start.acked,
        msgsPerS: Math.round(((acked - start.acked) / ms) * 1000),
        skipped,
        pubackP50: r2(pct(lat, 50)),
        pubackP99: r2(pct(lat, 99)),
      });
    }
  }
  for (const c of conns) c.end();
  send({ ev: 'stopped', acked, sent });
}

/** webhook receiver + one publisher: latency from MQTT publish to webhook receipt, one fresh device per sample */
async function probe(o: { port: number; username: string; password: string; prefix: string }) {
  const waiting = new Map<string, (t: number) => void>();
  const srv = http.createServer((req, res) => {
    const t = now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      try {
        const b = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alarm?: { deviceId?: string } };
        const id = b.alarm?.deviceId;
        if (id) waiting.get(id)?.(t);
      } catch {
        /* not ours */
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  send({ ev: 'listening', url: `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook` });
  let run = await next('run');
  const c = new LiteClient({
    host: '127.0.0.1',
    port: run.mqttPort as number,
    clientId: 'alarm-probe',
    username: o.username,
    password: (run.password as string) ?? o.password,
  });
  await c.connect();
  const fire = (dev: string, level: number) => {
    const body = Buffer.from(JSON.stringify({ time: new Date().toISOString(), readings: { level_cm: level } }));
    c.publish(topicBuf(`devices/${dev}/up`), body);
  };
  // runs follow one another (bench/soak.ts: one a minute, and a storm now and then) until 'stop'
  for (;;) {
    const first = (run.first as number) ?? 0;
    const lat: number[] = [];
    let timeouts = 0;
    if (run.cmd === 'storm') {
      // a storm: `samples` stations cross their threshold at the same moment, then fall back below it
      const devs = Array.from({ length: run.samples as number }, (_, i) => `${o.prefix}${first + i}`);
      const t0 = now();
      const got = devs.map((dev) => Promise.race([new Promise<number>((res) => waiting.set(dev, res)), sleep(10_000).then(() => -1)]));
      for (const dev of devs) fire(dev, 250);
      for (const t of await Promise.all(got)) {
        if (t < 0) timeouts++;
        else lat.push(t - t0);
      }
      for (const dev of devs) waiting.delete(dev);
      await sleep(200);
      for (const dev of devs) fire(dev, 0);
      send({ ev: 'storm', samples: lat.length, timeouts, p50: r2(pct(lat, 50)), p99: r2(pct(lat, 99)), max: r2(Math.max(...lat)) });
    } else {
      const samples = run.samples as number;
      // each sample's publish and webhook receipt, for the bench's per-stage breakdown (bench/bench.ts)
      const points: Array<{ dev: string; t0: number; t: number }> = [];
      const tb = now();
      for (let i = 0; i < samples && now() - tb < (run.maxMs as number); i++) {
        const dev = `${o.prefix}${first + i}`;
        const got = new Promise<number>((res) => waiting.set(dev, res));
        const t0 = now();
        fire(dev, 250);
        const t = await Promise.race([got, sleep(3000).then(() => -1)]);
        waiting.delete(dev);
        if (t < 0) timeouts++;
        else {
          lat.push(t - t0);
          points.push({ dev, t0, t });
        }
        await sleep(15 + Math.random() * 20);
      }
      send({
        ev: 'probe',
        points,
        samples: lat.length,
        timeouts,
        p50: r2(pct(lat, 50)),
        p90: r2(pct(lat, 90)),
        p99: r2(pct(lat, 99)),
        max: r2(Math.max(...lat)),
      });
    }
    run = await Promise.race([next('run'), next('storm'), next('stop')]);
    if (run.cmd === 'stop') break;
  }
  c.end();
  srv.close();
}

/** the bare broker's own latency: publish → the subscriber's delivery, QoS 1, paced like the alarm probe */
async function brokerProbe(o: { port: number; samples: number; maxMs: number }) {
  const sub = new LiteClient({ host: '127.0.0.1', port: o.port, clientId: 'latency-sub' });
  const pub = new LiteClient({ host: '127.0.0.1', port: o.port, clientId: 'latency-pub' });
  await sub.connect();
  await pub.connect();
  let got: ((t: number) => void) | undefined;
  sub.onMessage = () => got?.(now());
  sub.subscribe('latency/+', 1);
  await sleep(200);
  const lat: number[] = [];
  let timeouts = 0;
  const tb = now();
  for (let i = 0; i < o.samples && now() - tb < o.maxMs; i++) {
    const arrived = new Promise<number>((res) => (got = res));
    const body = Buffer.from(JSON.stringify({ time: new Date().toISOString(), readings: { level_cm: 250 } }));
    const t0 = now();
    pub.publish(topicBuf(`latency/${i}`), body);
    const t = await Promise.race([arrived, sleep(3000).then(() => -1)]);
    got = undefined;
    if (t < 0) timeouts++;
    else lat.push(t - t0);
    await sleep(15 + Math.random() * 20);
  }
  sub.end();
  pub.end();
  send({ ev: 'brokerprobe', samples: lat.length, timeouts, p50: r2(pct(lat, 50)), p99: r2(pct(lat, 99)) });
}

const args = JSON.parse(process.argv[3] ?? '{}');
const main =
  mode === 'relay'
    ? () => relay(args).then((r) => send({ ev: 'relay', ...r }))
    : mode === 'load'
      ? () => load(args)
      : mode === 'brokerprobe'
        ? () => brokerProbe(args)
        : () => probe(args);
main()
  .catch((e) => {
    log(`failed: ${(e as Error).stack}`);
    send({ ev: 'error', message: (e as Error).message });
  })
  .finally(() => setTimeout(() => process.exit(0), 100));
