// Naming of simulated devices [firmware-sim/README.md]: `sim-<model>-<n>` (n from 1), DevEUI `5E55` + 12 hex digits of n.
export interface SimDevice {
  /** 1-based */
  n: number;
  id: string;
  /** upper-case hex, as the API stores it */
  devEui: string;
  model: string;
}

export const simDeviceId = (model: string, n: number): string => `sim-${model}-${n}`;

export function simDevEui(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 48) throw new Error(`device number ${n} out of range`);
  return `5E55${n.toString(16).toUpperCase().padStart(12, '0')}`;
}

export function simDevices(model: string, count: number): SimDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    n: i + 1,
    id: simDeviceId(model, i + 1),
    devEui: simDevEui(i + 1),
    model,
  }));
}
