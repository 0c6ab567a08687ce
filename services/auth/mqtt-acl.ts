// Which devices an MQTT topic or filter names, for a municipality's credentials: an org-scoped integrator may
// grant rights only to its own devices' uplink topics, and at publish/subscribe time the device a topic names
// must still belong to the credential's municipality (a deleted id may be reused by another one).
import type { Device, DeviceRegistry } from '../devices/device-registry.ts';
import { matchTopic } from '../ingest/envelopes.ts';

const EUI = /^[0-9a-fA-F]{16}$/;

/** The registered device an uplink topic names, if any. */
export function topicDevice(devices: DeviceRegistry, topic: string): Device | undefined {
  const m = matchTopic(topic);
  if (!m?.ref || m.ref === '+' || m.ref === '#') return undefined;
  if (m.kind === 'chirpstack') return EUI.test(m.ref) ? devices.getByEui(m.ref) : undefined;
  if (m.kind === 'tts') {
    const eui = /^eui-([0-9a-f]{16})$/i.exec(m.ref)?.[1];
    return devices.get(m.ref) ?? (eui ? devices.getByEui(eui) : undefined);
  }
  return devices.get(m.ref);
}

/**
 * Why a municipality may not hold this filter, or null. Allowed: the uplink topics of one of its own devices,
 * with `+` only for the application or the event (`application/+/device/<devEui>/event/up`,
 * `v3/+/devices/<id>/up`, `devices/<id>/up`); never `#`.
 */
export function orgFilterProblem(devices: DeviceRegistry, org: string, filter: string): string | null {
  const why = `'${filter.slice(0, 120)}' is not an uplink topic of one of municipality '${org}'s devices (name the device; no # or + in its place)`;
  if (filter.includes('#')) return why;
  const p = filter.split('/');
  // the device segment must be literal; + is tolerated only where the application or event goes
  const deviceAt = p[0] === 'application' ? 3 : p[0] === 'v3' ? 3 : p[0] === 'devices' ? 1 : -1;
  if (deviceAt < 0 || p[deviceAt] === '+') return why;
  const literal = p.map((x, i) => (x === '+' && (i === 1 || i === p.length - 1) ? (i === 1 ? 'app' : 'up') : x)).join('/');
  if (literal.includes('+')) return why;
  const d = topicDevice(devices, literal);
  return d && d.org === org ? null : why;
}
