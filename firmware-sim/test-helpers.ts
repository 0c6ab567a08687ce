// In-memory publisher so simulator runs in tests need no broker and can inspect every message.
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
