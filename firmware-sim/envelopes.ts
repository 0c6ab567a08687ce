// Network-server envelopes around a frame [docs/topics.md]: ChirpStack v4 UplinkEvent JSON, The Things Stack v3
// uplink JSON, or native JSON. Both network servers omit protobuf default values (fCnt 0, adr false).

import type { SimDevice } from './devices.ts';
import type { EncodedFrame } from './encoders/index.ts';
import { type Rng, uuidFrom } from './prng.ts';

export type Format = 'chirpstack' | 'tts' | 'native';
export const FORMATS: readonly Format[] = ['chirpstack', 'tts', 'native'];

/** Identity of the simulated network-server application; fixed so MQTT ACLs stay valid across runs. */
export const SIM_NS = {
  tenantId: '5e55c0de-0000-4000-8000-000000000001',
  tenantName: 'Regenwacht Simulator',
  applicationId: '5e55c0de-0000-4000-8000-0000000000a1',
  applicationName: 'regenwacht-sim',
  deviceProfileId: '5e55c0de-0000-4000-8000-0000000000d1',
  ttsAppId: 'regenwacht-sim',
  ttsTenant: 'ttn',
  gatewayEui: 'a84041ffff5e5501',
} as const;

export interface Radio {
  rssi: number;
  snr: number;
  spreadingFactor: number;
  frequencyHz: number;
  gatewayTimestamp: number;
  uplinkId: number;
  context: string;
}

const EU868_HZ = [868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000];

/** Per uplink radio figures around a device's link quality (its distance to the gateway). */
export function radioFor(rng: Rng, base: { rssi: number; snr: number; sf: number }): Radio {
  return {
    rssi: Math.round(base.rssi + rng.normal(0, 2)),
    snr: Math.round((base.snr + rng.normal(0, 1)) * 4) / 4,
    spreadingFactor: base.sf,
    frequencyHz: EU868_HZ[rng.int(0, EU868_HZ.length - 1)],
    gatewayTimestamp: rng.int(0, 0xffffffff),
    uplinkId: rng.int(1, 0xffffffff),
    context: Buffer.from([rng.int(0, 255), rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)]).toString('base64'),
  };
}

export interface UplinkMeta {
  time: number; // epoch ms
  fCnt: number;
  radio: Radio;
  /** distinguishes runs so deduplication ids never collide between them */
  seed: string;
}

export interface Message {
  topic: string;
  payload: string;
}

/** RFC 3339 with nanoseconds and +00:00, like ChirpStack writes it. */
export const nsTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 23)}000000+00:00`;
const devAddrOf = (dev: SimDevice): string => `26${dev.n.toString(16).padStart(6, '0').slice(-6)}`;
const omitZero = (v: number): number | undefined => (v === 0 ? undefined : v);

export function chirpstackTopic(devEui: string): string {
  return `application/${SIM_NS.applicationId}/device/${devEui.toLowerCase()}/event/up`;
}
export const ttsTopic = (deviceId: string): string => `v3/${SIM_NS.ttsAppId}@${SIM_NS.ttsTenant}/devices/${deviceId}/up`;
export const nativeTopic = (deviceId: string): string => `devices/${deviceId}/up`;

export function topicsFor(dev: SimDevice): string[] {
  return [chirpstackTopic(dev.devEui), ttsTopic(dev.id), nativeTopic(dev.id)];
}

export function chirpstackUplink(dev: SimDevice, frame: EncodedFrame, m: UplinkMeta): Message {
  const r = m.radio;
  const body = {
    deduplicationId: uuidFrom(m.seed, dev.devEui, m.time, m.fCnt),
    time: nsTime(m.time),
    deviceInfo: {
      tenantId: SIM_NS.tenantId,
      tenantName: SIM_NS.tenantName,
      applicationId: SIM_NS.applicationId,
      applicationName: SIM_NS.applicationName,
      deviceProfileId: SIM_NS.deviceProfileId,
      deviceProfileName: dev.model,
      deviceName: dev.id,
      devEui: dev.devEui.toLowerCase(),
      tags: { simulator: 'true' },
    },
    devAddr: devAddrOf(dev),
    adr: true,
    dr: 12 - r.spreadingFactor, // EU868: DR0 = SF12 … DR5 = SF7
    fCnt: omitZero(m.fCnt),
    fPort: frame.fPort,
    data: frame.bytes.toString('base64'),
    rxInfo: [
      {
        gatewayId: SIM_NS.gatewayEui,
        uplinkId: r.uplinkId,
        time: nsTime(m.time - 50),
        rssi: r.rssi,
        snr: r.snr,
        context: r.context,
        metadata: { region_config_id: 'eu868', region_common_name: 'EU868' },
        crcStatus: 'CRC_OK',
      },
    ],
    txInfo: {
      frequency: r.frequencyHz,
      modulation: { lora: { bandwidth: 125000, spreadingFactor: r.spreadingFactor, codeRate: 'CR_4_5' } },
    },
  };
  return { topic: chirpstackTopic(dev.devEui), payload: JSON.stringify(body) };
}

export function ttsUplink(dev: SimDevice, frame: EncodedFrame, m: UplinkMeta): Message {
  const r = m.radio;
  const received = new Date(m.time).toISOString();
  const gwTime = new Date(m.time - 50).toISOString();
  const ulid = uuidFrom('tts', m.seed, dev.devEui, m.time, m.fCnt).replace(/-/g, '').slice(0, 26).toUpperCase();
  const channelIndex = EU868_HZ.indexOf(r.frequencyHz);
  const body = {
    end_device_ids: {
      device_id: dev.id,
      application_ids: { application_id: SIM_NS.ttsAppId },
      dev_eui: dev.devEui.toUpperCase(),
      join_eui: '0000000000000000',
      dev_addr: devAddrOf(dev).toUpperCase(),
    },
    correlation_ids: [`as:up:${ulid}`, `gs:uplink:${ulid}`],
    received_at: received,
    uplink_message: {
      session_key_id: Buffer.from(ulid.slice(0, 16)).toString('base64'),
      f_port: frame.fPort,
      f_cnt: omitZero(m.fCnt),
      frm_payload: frame.bytes.toString('base64'),
      rx_metadata: [
        {
          gateway_ids: { gateway_id: `eui-${SIM_NS.gatewayEui}`, eui: SIM_NS.gatewayEui.toUpperCase() },
          time: gwTime,
          timestamp: r.gatewayTimestamp,
          rssi: r.rssi,
          channel_rssi: r.rssi,
          snr: r.snr,
          uplink_token: r.context,
          channel_index: omitZero(channelIndex),
          received_at: gwTime,
        },
      ],
      settings: {
        data_rate: { lora: { bandwidth: 125000, spreading_factor: r.spreadingFactor, coding_rate: '4/5' } },
        frequency: String(r.frequencyHz),
        timestamp: r.gatewayTimestamp,
        time: gwTime,
      },
      received_at: received,
      consumed_airtime: `${(0.0464 * 2 ** (r.spreadingFactor - 7)).toFixed(6)}s`,
      network_ids: { net_id: '000013', tenant_id: SIM_NS.ttsTenant, cluster_id: 'eu1', cluster_address: 'eu1.cloud.thethings.network' },
    },
  };
  return { topic: ttsTopic(dev.id), payload: JSON.stringify(body) };
}

export function nativeUplink(dev: SimDevice, readings: Record<string, number>, time: number): Message {
  return { topic: nativeTopic(dev.id), payload: JSON.stringify({ time: new Date(time).toISOString(), readings }) };
}
