// When each uplink happens, in simulated time and in wall time.
// Scenario mode: simulated time runs from now − span·(1 − 1/speed) and reaches "now" with the last uplink,
// so every timestamp is in the past yet the storm ends at about the current time and a rolling 1-h window
// evaluated at the broker sees it whole. speed = 1 is real time.
// Load mode (--rate): uplinks at the requested rate, stamped with their wall time.
import type { SimOptions } from './args.ts';
import type { Scenario } from './scenarios/types.ts';

export interface ScheduledUplink {
  device: number;
  /** index within the device's series */
  index: number;
  /** ms since the scenario start (what the scenario is asked about) */
  offset: number;
  /** reading timestamp, epoch ms */
  time: number;
  /** wall time to send, epoch ms */
  sendAt: number;
}

export interface Schedule {
  countFor(device: number): number;
  events(): Iterable<ScheduledUplink>;
}

type Opts = Pick<SimOptions, 'rate' | 'count' | 'durationMs' | 'intervalMs' | 'speed'>;

export function buildSchedule(o: Opts, sc: Scenario, devices: number, wallStart: number): Schedule {
  if (o.rate !== undefined) return loadSchedule(o.rate, o.count ?? Math.max(1, Math.floor((o.rate * o.durationMs) / 1000)), sc, devices, wallStart);
  const simStart = wallStart - sc.spanMs * (1 - 1 / o.speed);
  const at = (device: number, index: number, offset: number): ScheduledUplink => ({
    device,
    index,
    offset,
    time: Math.round(simStart + offset),
    sendAt: wallStart + offset / o.speed,
  });
  if (sc.offsets) {
    const all: ScheduledUplink[] = [];
    for (let d = 0; d < devices; d++) sc.offsets(d).forEach((off, i) => all.push(at(d, i, off)));
    all.sort((a, b) => a.offset - b.offset || a.device - b.device);
    return { countFor: (d) => sc.offsets!(d).length, events: () => all };
  }
  const n = Math.floor(sc.spanMs / o.intervalMs) + 1;
  return {
    countFor: () => n,
    *events() {
      for (let k = 0; k < n; k++) for (let d = 0; d < devices; d++) yield at(d, k, k * o.intervalMs);
    },
  };
}

function loadSchedule(rate: number, total: number, sc: Scenario, devices: number, wallStart: number): Schedule {
  const stepMs = 1000 / rate;
  const totalMs = total * stepMs;
  // a device's timestamps must stay distinct (the store de-duplicates on device + time), so above
  // 1000 uplinks/s per device they run slightly ahead of the wall clock
  const perDeviceStep = Math.max(1, devices * stepMs);
  return {
    countFor: (d) => (d < total ? Math.ceil((total - d) / devices) : 0),
    *events() {
      for (let g = 0; g < total; g++) {
        const wall = wallStart + g * stepMs;
        // the scenario is stretched over the run so a storm still has its shape under load
        const offset = totalMs > 0 ? (g * stepMs * sc.spanMs) / totalMs : 0;
        const device = g % devices;
        const index = Math.floor(g / devices);
        const time = Math.round(wallStart + device * stepMs + index * perDeviceStep);
        yield { device, index, offset, time, sendAt: wall };
      }
    },
  };
}
