// What the DWD inputs of this process expose to the API (started in services/start/dwd.ts).
import type { WarningFeed } from './warning-feed.ts';

export interface DwdInputs {
  warnings?: WarningFeed;
  nowcast?: import('./nowcast-feed.ts').NowcastFeed;
  /** the fetch worker's supervisor (restarts a crashed worker) */
  worker?: import('./dwd-worker.ts').DwdWorker;
}
