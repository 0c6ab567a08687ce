import type { Logger } from 'pino';
import type { MqttCredentialStore } from './auth/mqtt-credential-store.ts';
import type { TokenStore } from './auth/token-store.ts';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import type { DeviceRegistry } from './devices/device-registry.ts';
import type { CodecSandbox } from './ingest/codecs/codec-sandbox.ts';
import type { Metrics } from './metrics.ts';

/** What the HTTP routes and the roles share. Parts that a role does not run are absent. */
export interface AppContext {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  metrics: Metrics;
  tokens: TokenStore;
  credentials: MqttCredentialStore;
  devices: DeviceRegistry;
  /** runs uploaded js-codecs (worker threads, started on first use) */
  codecSandbox: CodecSandbox;
  /** is the embedded broker or upstream subscription usable (for /readyz) */
  brokerReady: () => boolean;
  /** true once a graceful shutdown began: /readyz says no, so load balancers send nothing new */
  draining: () => boolean;
  /** with the scheduler role: does this instance hold the scheduler lock */
  schedulerLeader?: () => boolean;
  /** set by the alarm role */
  alarms?: import('./alarms/alarm-service.ts').AlarmService;
  rules?: import('./alarms/rule-service.ts').RuleService;
  /** notification routes */
  routes?: import('./alarms/route-service.ts').RouteService;
  codecs?: import('./ingest/codec-store.ts').CodecStore;
  /** the DWD inputs this process runs (warnings feed), when configured */
  dwd?: import('./dwd/dwd-inputs.ts').DwdInputs;
}
