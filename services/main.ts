// `npm start`: the whole system, or the roles named in ROLES. [README.md]
import closeWithGrace from 'close-with-grace';
import { startRegenwacht } from './app.ts';
import { PortInUseError } from './broker/broker.ts';
import { ConfigError } from './config.ts';
import { StartError } from './start-checks.ts';

async function main() {
  let running: Awaited<ReturnType<typeof startRegenwacht>>;
  const t0 = Date.now();
  try {
    running = await startRegenwacht();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`Regenwacht: ${e.message}`);
      process.exit(2);
    }
    if (e instanceof StartError || e instanceof PortInUseError) {
      console.error(`Regenwacht: ${(e as Error).message}`);
      process.exit(1);
    }
    console.error('Regenwacht failed to start:', e);
    process.exit(1);
  }
  const r = running;
  console.log(
    [
      `Regenwacht ready in ${Date.now() - t0} ms`,
      `  HTTP API:    ${r.httpUrl || '(api role not running)'}   (docs: ${r.httpUrl}/docs)`,
      `  MQTT broker: ${r.mqttUrl ?? '(embedded broker off)'}`,
      `  admin token: in ${r.adminTokenSource}`,
    ].join('\n'),
  );
  closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
    if (err) console.error('Regenwacht: fatal error, shutting down', err);
    else console.log(`Regenwacht: ${signal}, shutting down`);
    await r.stop();
  });
}

main();
