// Step 4: ingest — pipeline, batch writer and what hears of committed readings (the one fan-out below).
import type { Reading } from '../../alerts/types.ts';
import { alarmTrace } from '../alarms/alarm-trace.ts';
import type { AppContext } from '../context.ts';
import { IngestService } from '../ingest/ingest-service.ts';
import { startPeerFeed } from '../ingest/peer-feed.ts';
import { startPeerJournal } from '../ingest/peer-journal-store.ts';
import { IngestPipeline } from '../ingest/pipeline.ts';
import { createSteps } from '../ingest/steps-impl.ts';
import { BatchWriter } from '../ingest/writer.ts';
import { startDwd } from './dwd.ts';
import type { Stops } from './stops.ts';

/** Where committed readings go next: the rule engine of this process, and the console's live board. */
export interface ReadingSinks {
  evaluate?: (rs: Reading[]) => void;
  live: (rs: Reading[]) => void;
  /** devices whose uplinks were rejected (stored with the reason): the console's live view of the device */
  rejected?: (deviceIds: string[]) => void;
}

export async function startIngest(ctx: AppContext, sinks: ReadingSinks, now: () => number, stops: Stops): Promise<IngestService | undefined> {
  const { config, db, log, metrics } = ctx;
  if (!(config.roles.has('ingest') || config.roles.has('broker'))) return undefined;
  const steps = await createSteps(db, ctx.codecSandbox, now);
  ctx.codecs = steps.codecs;
  const up = config.upstream;
  const evaluate = sinks.evaluate;
  // with a $share group, each instance evaluates all readings: its own and those its peers committed
  const peers =
    evaluate && up?.shareGroup && config.roles.has('ingest')
      ? startPeerFeed({ url: up.url, username: up.username, password: up.password, group: up.shareGroup, tls: up.tls }, evaluate, log)
      : undefined;
  // what the peers may not have heard of when this instance dies is kept in PostgreSQL until the broker has it
  const journal = peers && evaluate ? startPeerJournal(db, evaluate, log) : undefined;
  if (journal) stops.push(() => journal.stop());
  if (peers) stops.push(() => peers.close());
  // committed readings go on to the rule engine, the peers and the console's live board
  const onCommitted = (rs: Reading[], batches: number[]) => {
    if (alarmTrace.on) for (const r of rs) alarmTrace.on('committed', r.deviceId);
    evaluate?.(rs);
    peers?.publish(rs, batches.length ? () => journal?.confirmed(batches) : undefined);
    sinks.live(rs);
  };
  const writer = new BatchWriter(db, log.child({ component: 'writer' }), metrics, { onCommitted, onRejected: sinks.rejected, journal });
  stops.push(() => writer.close());
  const service = new IngestService(new IngestPipeline(ctx.devices, steps), writer, metrics, log.child({ component: 'ingest' }), {
    maxInFlight: config.ingestMaxInFlight,
  });
  // the DWD inputs (warnings, radar nowcast) write their virtual devices' readings through the same writer
  await startDwd(ctx, service, now, stops);
  return service;
}
