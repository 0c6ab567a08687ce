// npx tsx bench/aedes-publish.ts [messages=300000] [window=1000] [rounds=5] — issue 17: the CPU of aedes' fan-out
// alone (Aedes.publish after a PUBACK: retained store, persistence lookup for offline queues, mqemitter, the
// published hook), with `window` publishes in flight, for aedes' options side by side in alternating rounds;
// "skipped" is what the embedded broker now does for an uplink while no subscription was granted (nothing).
import { Aedes } from 'aedes';

const [messages = 300_000, window = 1000, rounds = 5] = process.argv.slice(2).map(Number);

async function run(options: Record<string, unknown>, lookup: boolean): Promise<number> {
  const broker = await Aedes.createBroker({ concurrency: 1000, ...options });
  const p = (broker as unknown as { persistence: { subscriptionsByTopic: (t: string) => Promise<unknown[]> } }).persistence;
  if (!lookup) p.subscriptionsByTopic = async () => [];
  const client = { id: 'bench-0' };
  const publish = broker.publish.bind(broker) as unknown as (packet: unknown, client: unknown, done: () => void) => void;
  const payload = Buffer.from('{"time":"2026-11-30T12:00:00.000Z","readings":{"temperature_c":12.5}}');
  let sent = 0;
  let done = 0;
  const c0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const next = () => {
      if (++done === messages) return resolve();
      if (sent < messages) pub();
    };
    const pub = () => {
      sent++;
      publish({ cmd: 'publish', topic: `devices/bench-${sent % 1000}/up`, payload, qos: 1, retain: false, dup: false, messageId: sent & 0xffff }, client, next);
    };
    for (let i = 0; i < window && sent < messages; i++) pub();
  });
  const c = process.cpuUsage(c0);
  await new Promise<void>((r) => broker.close(() => r()));
  return (c.user + c.system) / messages;
}

const variants: Array<[string, Record<string, unknown>, boolean]> = [
  ['concurrency 1000 (ours)', {}, true],
  ['concurrency 100 (aedes default)', { concurrency: 100 }, true],
  ['no subscription lookup in persistence', {}, false],
];
const out: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, o, lookup] of r % 2 ? [...variants].reverse() : variants) (out[name] ??= []).push(await run(o, lookup));
}
for (const [name, xs] of Object.entries(out)) {
  const s = [...xs].sort((a, b) => a - b);
  console.log(`${name.padEnd(40)} median ${s[Math.floor((s.length - 1) / 2)].toFixed(2)} us/publish  (${xs.map((x) => x.toFixed(2)).join(', ')})`);
}
