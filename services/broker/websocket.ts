// MQTT over WebSockets at /mqtt on the HTTP port: for browser tools and networks that pass only 80/443.
// The connection enters the same broker as a TCP one (login, ACL, PUBACK after commit). [README.md MQTT over WebSockets]
import type http from 'node:http';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { RunningBroker } from './broker.ts';

export const MQTT_WS_PATH = '/mqtt';

export function attachMqttWebSocket(server: http.Server, broker: RunningBroker, maxPacketBytes: number): () => Promise<void> {
  // MQTT clients offer the subprotocol 'mqtt' (3.1.1/5) or 'mqttv3.1'; any is answered with the first offered
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPacketBytes + 8 });
  const onUpgrade = (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const p = (req.url ?? '').split('?')[0];
    if (p !== MQTT_WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => broker.accept(createWebSocketStream(ws), req.socket.remoteAddress));
  };
  server.on('upgrade', onUpgrade);
  return async () => {
    server.off('upgrade', onUpgrade);
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  };
}
