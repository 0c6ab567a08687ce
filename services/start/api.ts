// Step 7: the HTTP API and the web console on one fastify app, listening on the port held since step 1.
import { buildApi } from '../api/app.ts';
import type { RunningBroker } from '../broker/broker.ts';
import { attachMqttWebSocket } from '../broker/websocket.ts';
import type { AppContext } from '../context.ts';
import { type HeldPort, StartError } from '../start-checks.ts';
import type { LiveFeed } from '../web/feed.ts';
import { webConsole } from '../web/index.ts';
import type { Stops } from './stops.ts';

/** The API's address, or '' when this process has no api role. */
export async function startApi(ctx: AppContext, live: LiveFeed, heldPort: HeldPort | undefined, stops: Stops, broker?: RunningBroker): Promise<string> {
  const { config } = ctx;
  if (!config.roles.has('api')) return '';
  const api = await buildApi(ctx, ctx.log);
  await api.register(webConsole, { ctx, feed: live });
  try {
    await heldPort?.release();
    await api.listen({ host: config.bindHost, port: config.httpPort });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartError(
        'PORT_IN_USE',
        `HTTP port ${config.httpPort} on ${config.bindHost} is already in use; choose another with HTTP_PORT=<port> (0 = any free port)`,
      );
    }
    throw e;
  }
  stops.push(() => api.close());
  if (broker && config.mqttWebSocket) stops.push(attachMqttWebSocket(api.server, broker, config.mqtt.maxPacketBytes));
  const addr = api.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.httpPort;
  return `http://${config.bindHost}:${port}`;
}
