// In-memory publisher and a frozen clock so simulator runs are fast and repeatable in tests.
import type { Publisher } from './publisher.ts';

export interface Captured {
  topic: string;
  payload: string;
  qos: number;
}

export function memoryPublisher(): Publisher & { messages: Captured[] } {
  const messages: Captured[] = [];
  return {
    messages,
    closedReason: undefined,
    publish: async (topic, payload, qos) => void messages.push({ topic, payload, qos }),
    close: async () => undefined,
  };
}

/** A clock that jumps forward whenever the simulator sleeps is not needed: tests run at high --speed. */
export const FIXED_NOW = Date.parse('2025-06-01T12:00:00Z');
