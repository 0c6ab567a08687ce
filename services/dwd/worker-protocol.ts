// What the DWD fetch worker and the main thread say to each other (structured-clone plain data only).
import type { DwdAlert } from '../../alerts/dwd/dwd-warnings.ts';

export interface CapJob {
  /** http: fetch `url`; folder: read `dir` */
  mode: 'http' | 'folder';
  url: string;
  dir: string;
  intervalMs: number;
}

export interface FetchLimits {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
}

export interface WorkerConfig {
  cap?: CapJob;
  limits: FetchLimits;
}

export type FromWorker =
  | { type: 'warnings'; at: number; alerts: DwdAlert[]; problems: { file: string; reason: string }[] }
  | { type: 'warnings-unchanged'; at: number }
  | { type: 'error'; source: 'cap' | 'radar'; at: number; message: string };
