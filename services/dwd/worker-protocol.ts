// What the DWD fetch worker and the main thread say to each other (structured-clone plain data only).
import type { DwdAlert } from '../../alerts/dwd/dwd-warnings.ts';

export interface CapJob {
  /** http: fetch `url`; folder: read `dir` */
  mode: 'http' | 'folder';
  url: string;
  dir: string;
  intervalMs: number;
  /** http: fetched only while some municipality has a warncell (the main thread says when that changes) */
  active: boolean;
}

export type { FetchLimits } from './http-source.ts';

import type { FetchLimits } from './http-source.ts';

export interface WorkerConfig {
  cap?: CapJob;
  radar?: import('./nowcast-job.ts').RadarJob;
  limits: FetchLimits;
}

export type FromWorker =
  /** the thread is up: its message handlers are set and its first passes started (the main thread keeps it) */
  | { type: 'ready' }
  | { type: 'warnings'; at: number; alerts: DwdAlert[]; problems: { file: string; reason: string }[] }
  | { type: 'warnings-unchanged'; at: number }
  | { type: 'nowcast'; at: number; result: import('./nowcast-job.ts').NowcastRun }
  | { type: 'error'; source: 'cap' | 'radar'; at: number; message: string };

export type ToWorker = { type: 'catchments'; catchments: import('./nowcast.ts').CatchmentShape[] } | { type: 'cap-active'; active: boolean };
