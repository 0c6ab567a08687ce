// Defining a catchment: a GeoJSON polygon, or a circle around stations; each gets a virtual device
// `catchment-<id>` whose readings are the radar nowcast over it. [docs/dwd.md Catchments]
import type { Device, DeviceRegistry } from '../devices/device-registry.ts';
import type { Catchment, CatchmentStore } from './catchment-store.ts';

export const NOWCAST_DEVICE_MODEL = 'dwd-nowcast';
export const nowcastDeviceId = (catchmentId: string) => `catchment-${catchmentId}`;

export interface CatchmentRequest {
  id: string;
  name: string;
  org: string;
  geometry?: Catchment['geometry'];
  circle?: { deviceIds: string[]; radiusM: number };
  bufferM: number;
  thresholdMm: number;
  deviceIds: string[];
}

export class CatchmentError extends Error {}

/** A 64-gon of radius r (m) around a point, closed, [lon, lat]. */
export function circlePolygon(lon: number, lat: number, r: number): [number, number][] {
  const ring: [number, number][] = [];
  for (let i = 0; i <= 64; i++) {
    const a = (2 * Math.PI * (i % 64)) / 64;
    ring.push([lon + (r * Math.sin(a)) / (111_320 * Math.cos((lat * Math.PI) / 180)), lat + (r * Math.cos(a)) / 111_320]);
  }
  return ring;
}

export function ringsOf(g: Catchment['geometry']): [number, number][][] {
  return g.type === 'Polygon' ? [g.coordinates[0]] : g.coordinates.map((p) => p[0]);
}

const centroid = (g: Catchment['geometry']) => {
  const pts = ringsOf(g).flat();
  return { lon: pts.reduce((s, p) => s + p[0], 0) / pts.length, lat: pts.reduce((s, p) => s + p[1], 0) / pts.length };
};

export async function saveCatchment(req: CatchmentRequest, store: CatchmentStore, devices: DeviceRegistry): Promise<Catchment> {
  let geometry = req.geometry;
  let deviceIds = req.deviceIds;
  if (req.circle) {
    const located = req.circle.deviceIds.map((id) => devices.get(id)).filter((d): d is Device => !!d && d.org === req.org && !!d.location);
    if (located.length !== req.circle.deviceIds.length)
      throw new CatchmentError('circle.deviceIds: every station must exist in this municipality and have a location');
    const lon = located.reduce((s, d) => s + (d.location?.lon ?? 0), 0) / located.length;
    const lat = located.reduce((s, d) => s + (d.location?.lat ?? 0), 0) / located.length;
    geometry = { type: 'Polygon', coordinates: [circlePolygon(lon, lat, req.circle.radiusM)] };
    deviceIds = [...new Set([...deviceIds, ...req.circle.deviceIds])];
  }
  if (!geometry) throw new CatchmentError('geometry or circle is required');
  for (const id of deviceIds) if (devices.get(id)?.org !== req.org) throw new CatchmentError(`deviceIds: no device '${id}' in this municipality`);
  const saved = await store.put({ id: req.id, org: req.org, name: req.name, geometry, bufferM: req.bufferM, thresholdMm: req.thresholdMm, deviceIds });
  if (!saved) throw new CatchmentError(`catchment id '${req.id}' belongs to another municipality`);
  // its stations carry the tag catchment=<id> (unless they already belong to one): a combined rule's gauge
  // condition looks for the devices sharing the forecast device's catchment tag [docs/warning-logic.md]
  for (const id of deviceIds) {
    const d = devices.get(id);
    if (d && d.tags.catchment === undefined) await devices.update(id, { tags: { ...d.tags, catchment: saved.id } });
  }
  const devId = nowcastDeviceId(saved.id);
  if (!devices.get(devId)) {
    const c = centroid(geometry);
    await devices.create({
      id: devId,
      name: `Einzugsgebiet ${saved.name}`,
      model: NOWCAST_DEVICE_MODEL,
      devEui: null,
      location: { lat: c.lat, lon: c.lon },
      params: {},
      tags: { source: 'dwd-nowcast', catchment: saved.id },
      org: saved.org,
    });
  }
  return saved;
}
