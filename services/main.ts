// `npm start`: the whole system, or the roles named in ROLES. [README.md]
// A start that cannot succeed ends with one line naming its code in the error catalogue (docs/errors.md).
import closeWithGrace from 'close-with-grace';
import { startRegenwacht } from './app.ts';
import { startFailure } from './errors.ts';

async function main() {
  let running: Awaited<ReturnType<typeof startRegenwacht>>;
  const t0 = Date.now();
  try {
    running = await startRegenwacht();
  } catch (e) {
    const failure = startFailure(e);
    switch (failure?.code) {
      case 'CONFIG_INVALID':
      case 'PORT_IN_USE':
      case 'PORT_FORBIDDEN':
      case 'BIND_HOST_UNAVAILABLE':
      case 'DATABASE_REFUSED':
      case 'DATABASE_UNREACHABLE':
      case 'MIGRATION_FAILED':
        console.error(`Regenwacht: ${failure.message} [${failure.code}, see docs/errors.md]`);
        process.exit(failure.exit);
        break;
      default:
        console.error('Regenwacht failed to start:', e);
        process.exit(1);
    }
  }
  const r = running;
  console.log(
    [
      `Regenwacht ready in ${Date.now() - t0} ms`,
      `  HTTP API:    ${r.httpUrl || '(api role not running)'}   (docs: ${r.httpUrl}/docs)`,
      `  MQTT broker: ${r.mqttUrl ?? '(embedded broker off)'}${r.mqttsUrl ? `, ${r.mqttsUrl}` : ''}`,
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
