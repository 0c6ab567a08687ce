import client from 'prom-client';

export interface StateProbe {
  /** open alarms by severity and state, and notifications by outbox state; read at scrape time */
  snapshot(): Promise<{ alarms: { severity: string; state: string; n: number }[]; outbox: { state: string; n: number }[] }>;
}

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'regenwacht_' });
  const c = <T extends string>(name: string, help: string, labelNames: T[] = []) => new client.Counter({ name, help, labelNames, registers: [registry] });
  const m = {
    refresh: async (): Promise<void> => {},
    registry,
    uplinks: c('regenwacht_uplinks_total', 'Uplinks handled, by outcome', ['outcome']),
    readings: c('regenwacht_readings_written_total', 'Readings newly stored'),
    rejected: c('regenwacht_rejected_uplinks_total', 'Rejected uplinks, by reason', ['reason']),
    transitions: c('regenwacht_alarm_transitions_total', 'Alarm transitions, by kind', ['kind']),
    notifications: c('regenwacht_notification_attempts_total', 'Notification delivery attempts', ['channel', 'result']),
    httpRequests: c('regenwacht_http_requests_total', 'HTTP requests', ['method', 'status']),
    httpConnectionsRefused: c(
      'regenwacht_http_connections_refused_total',
      'HTTP connections closed on arrival because their address already held HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    ),
    batchSeconds: new client.Histogram({
      name: 'regenwacht_ingest_batch_seconds',
      help: 'Time to commit one ingest batch',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    maintenanceSeconds: new client.Histogram({
      name: 'regenwacht_maintenance_job_seconds',
      help: 'Duration of each run of a maintenance job (TimescaleDB policies run by the embedded store, readings retention on plain PostgreSQL), by job',
      labelNames: ['job'],
      buckets: [0.01, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [registry],
    }),
    readingsExpired: c('regenwacht_readings_expired_total', 'Readings deleted because they were older than READINGS_RETENTION_DAYS (plain PostgreSQL)'),
    pendingUplinks: new client.Gauge({ name: 'regenwacht_ingest_pending', help: 'Uplinks waiting for their batch to commit', registers: [registry] }),
    uplinksWaiting: new client.Gauge({
      name: 'regenwacht_ingest_waiting',
      help: 'Uplinks held before any work because INGEST_MAX_IN_FLIGHT uplinks are in flight (backpressure)',
      registers: [registry],
    }),
    /** the gauges that need the database are filled from this probe when Prometheus scrapes */
    probe: undefined as StateProbe | undefined,
  };
  const openAlarms = new client.Gauge({
    name: 'regenwacht_alarms_open',
    help: 'Open alarms by severity and state (firing, acknowledged)',
    labelNames: ['severity', 'state'],
    registers: [registry],
  });
  const outbox = new client.Gauge({
    name: 'regenwacht_notifications',
    help: 'Notifications in the outbox by state (pending, sending, held, failed, …)',
    labelNames: ['state'],
    registers: [registry],
  });
  m.refresh = async () => {
    if (!m.probe) return;
    const snap = await m.probe.snapshot();
    openAlarms.reset();
    for (const a of snap.alarms) openAlarms.set({ severity: a.severity, state: a.state }, a.n);
    outbox.reset();
    for (const o of snap.outbox) outbox.set({ state: o.state }, o.n);
  };
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;
