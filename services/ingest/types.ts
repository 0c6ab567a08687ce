import type { Reading } from '../../alerts/types.ts';

export type RejectReason =
  | 'unknown_topic'
  | 'bad_envelope'
  | 'invalid_json'
  | 'unknown_device'
  | 'bad_payload'
  | 'decode_error'
  | 'wrong_fport'
  | 'codec_timeout'
  | 'codec_memory'
  | 'codec_error'
  | 'no_codec'
  | 'unknown_metric'
  | 'out_of_range'
  | 'bad_time'
  | 'too_large'
  | 'acl_denied'
  | 'identity_mismatch'
  | 'store_error';

export interface RawMessage {
  topic: string;
  payload: Buffer;
  source: 'broker' | 'upstream';
  clientId?: string;
  receivedAt: number;
}

export interface Rejection {
  topic: string;
  payload: Buffer;
  reason: RejectReason;
  message: string;
  deviceId?: string;
  clientId?: string;
  receivedAt: number;
}

export interface UplinkMeta {
  time: number;
  deviceId: string;
  source: 'chirpstack' | 'tts' | 'native';
  fCnt?: number;
  fPort?: number;
  rssi?: number;
  snr?: number;
  gateways?: unknown;
}

/** What one message becomes: readings to store, uplink metadata, and/or rejections. */
export interface IngestWork {
  readings: Reading[];
  uplink?: UplinkMeta;
  rejections: Rejection[];
  counter?: { deviceId: string; count: number; bits: number; time: number };
  /** the device's clock was this far off the receive time (negative: behind); its readings were re-stamped */
  clockSkew?: { deviceId: string; seconds: number; at: number };
  /** readings stored earlier as suspected spikes that this message confirmed: stored good, then evaluated */
  released?: Reading[];
  /** a "stop here" outcome that is not an error (e.g. duplicate frame, non-uplink event) */
  skipped?: string;
}

export type Outcome = 'accepted' | 'rejected' | 'partial' | 'skipped';
