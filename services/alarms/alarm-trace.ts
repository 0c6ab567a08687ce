// Where an alarm's time goes, hop by hop, for the bench (bench/bench.ts runs the server in its own process and
// sets `alarmTrace.on`). Unset in a server: each hop costs one property check, and nothing is allocated.
// Stages in path order; `key` is the MQTT topic for `received`, else the device id. [docs/benchmarks.md]
export type AlarmStage =
  /** the broker handed the publish to ingest */
  | 'received'
  /** the reading's batch committed (the PUBACK may go) */
  | 'committed'
  /** the rule engine produced the transition */
  | 'evaluated'
  /** the alarm store began the transition's write (after any write queued before it) */
  | 'applying'
  /** alarm, event and outbox rows committed */
  | 'stored'
  /** the notifier hands the webhook request to the HTTP client */
  | 'sent';

export const alarmTrace: { on?: (stage: AlarmStage, key: string) => void } = {};
