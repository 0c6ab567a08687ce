// A scenario is the "weather and water" the simulated sensors see; sensors and faults come after it.

/** Ground truth at one moment for one device; absent fields mean "the device's quiet default". */
export interface Truth {
  /** rain that fell on the gauge since the simulated start [mm] */
  rainCumMm?: number;
  /** water level above gauge zero [cm] */
  levelCm?: number;
  /** raw distance given directly (replay of distance_mm) */
  distanceMm?: number;
  batteryV?: number;
  temperatureC?: number;
}

export interface Scenario {
  name: string;
  /** simulated time from the first reading to the last [ms] */
  spanMs: number;
  /** reading offsets [ms from the simulated start] when the scenario dictates them (replay); else a regular grid */
  offsets?(device: number): number[];
  truth(device: number, offsetMs: number): Truth;
  /** one-line description for the summary, e.g. "Euler II T=10 a D=60 min, 28.8 mm" */
  describe: string;
}

export const MIN = 60_000;
