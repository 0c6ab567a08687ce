// Step 1: the configuration and the ports. A taken port is the only thing the user reads, and HTTP_PORT=0
// gets its port now, so PUBLIC_URL can default to the address the API will really have.
import { type Config, loadConfig } from '../config.ts';
import { type HeldPort, holdPort, urlHost } from '../start-checks.ts';

export interface HeldPorts {
  http?: HeldPort;
  mqtt?: HeldPort;
  mqtts?: HeldPort;
}

export async function configWithPorts(env: Record<string, string | undefined>): Promise<{ config: Readonly<Config>; held: HeldPorts }> {
  const loaded = loadConfig(env);
  const held: HeldPorts = {};
  if (loaded.roles.has('api')) held.http = await holdPort(loaded.bindHost, loaded.httpPort, 'HTTP');
  try {
    if (loaded.roles.has('broker') && typeof loaded.mqttPort === 'number' && loaded.mqttPort !== 0)
      held.mqtt = await holdPort(loaded.bindHost, loaded.mqttPort, 'MQTT');
    if (loaded.roles.has('broker') && loaded.mqtts && loaded.mqtts.port !== 0) held.mqtts = await holdPort(loaded.bindHost, loaded.mqtts.port, 'MQTTS');
  } catch (e) {
    await Promise.all([held.http?.release(), held.mqtt?.release()]);
    throw e;
  }
  const httpPort = held.http?.port ?? loaded.httpPort;
  const publicUrl = env.PUBLIC_URL ? loaded.publicUrl : `http://${urlHost(loaded.bindHost)}:${httpPort}`;
  return { config: Object.freeze({ ...loaded, httpPort, publicUrl }), held };
}
