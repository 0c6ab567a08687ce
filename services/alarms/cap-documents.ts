// The CAP 1.2 documents of an alarm and the Atom feed that lists them. [docs/formats.md CAP 1.2]
import { type CapMsgType, capAlertXml, capAtomFeed } from '../../alerts/channels/cap.ts';
import { alarmTitle } from '../../alerts/channels/wording.ts';
import type { Config } from '../config.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import type { AlarmService } from './alarm-service.ts';

/** The CAP Atom feed lists every alarm open or changed this long ago at most. [docs/formats.md CAP] */
const FEED_WINDOW_MS = 24 * 3_600_000;

export type CapConfig = Pick<Config, 'publicUrl' | 'cap' | 'capArs'>;

export class CapDocuments {
  private readonly sender: string;
  constructor(
    private readonly alarms: AlarmService,
    private readonly devices: DeviceRegistry,
    private readonly config: CapConfig,
  ) {
    this.sender = `regenwacht@${new URL(config.publicUrl).hostname}`;
  }

  /** The latest CAP document of an alarm (Alert, Update or Cancel, referencing the earlier ones). */
  async document(alarmId: string) {
    const a = await this.alarms.get(alarmId);
    if (!a) return undefined;
    // acknowledgements and unacknowledged-escalations are the operators' business, not a warning's change
    const ev = a.events.filter((e) => e.kind !== 'acknowledged' && e.kind !== 'escalated_unacknowledged');
    const docs: { identifier: string; sent: Date; type: CapMsgType }[] = ev.map((e, i) => ({
      identifier: `urn:regenwacht:alarm:${a.id}:${e.id}`,
      sent: new Date(e.at ?? a.updatedAt),
      type: e.kind === 'resolved' || e.kind === 'closed' ? 'Cancel' : i === 0 ? 'Alert' : 'Update',
    }));
    const last = docs[docs.length - 1];
    // a nowcast's onset: what the latest firing/escalation/de-escalation told the webhook (expectedAt) and the SMS ("ab ca.")
    const expecting = [...ev].reverse().find((e) => e.kind === 'firing' || e.kind === 'escalated' || e.kind === 'deescalated');
    const expectedAt = last?.type !== 'Cancel' && expecting ? await this.alarms.expectedAt(a, new Date(expecting.at ?? a.updatedAt)) : undefined;
    const d = this.devices.get(a.deviceId);
    const stamp = (x: Date) => x.toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const xml = capAlertXml({
      alarm: a,
      device: { name: d?.name ?? a.deviceId, location: d?.location ?? null },
      msgType: last?.type ?? 'Alert',
      identifier: last?.identifier ?? `urn:regenwacht:alarm:${a.id}`,
      sent: last?.sent ?? new Date(a.startedAt),
      references: docs.slice(0, -1).map((x) => `${this.sender},${x.identifier},${stamp(x.sent)}`),
      sender: this.sender,
      publicUrl: this.config.publicUrl,
      ...this.config.cap,
      ars: Object.hasOwn(this.config.capArs, a.org) ? this.config.capArs[a.org] : undefined,
      onset: expectedAt ? new Date(expectedAt) : undefined,
    });
    return { alarm: a, xml, last };
  }

  /** Every alarm open or changed in the last 24 h, so a feed reader also sees the Cancel that ends a warning. */
  async feed(org: string | null): Promise<string> {
    const { publicUrl } = this.config;
    const since = this.alarms.now() - FEED_WINDOW_MS;
    const listed = await this.alarms.list({ state: 'all', mode: 'active', limit: 1000, org });
    const shown = listed.filter((a) => a.mode === 'active' && (a.state === 'firing' || a.state === 'acknowledged' || Date.parse(a.updatedAt) >= since));
    const entries = [];
    for (const a of shown) {
      const c = await this.document(a.id);
      if (c?.last)
        entries.push({
          alarm: a,
          identifier: c.last.identifier,
          sent: c.last.sent,
          xmlUrl: `${publicUrl}/api/v1/cap/alerts/${a.id}.xml`,
          title: `${c.last.type === 'Cancel' ? 'Beendet: ' : ''}${alarmTitle(a)} – ${a.ruleName}: ${a.deviceId}`,
        });
    }
    return capAtomFeed(entries, {
      selfUrl: `${publicUrl}/api/v1/cap/alerts.atom`,
      updated: new Date(Math.max(this.alarms.now(), ...entries.map((e) => e.sent.getTime()))),
    });
  }
}
