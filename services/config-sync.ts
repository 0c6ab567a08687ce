// Several processes on one PostgreSQL (ROLES split, or instances sharing an MQTT $share group) each cache
// devices, credentials, codecs, rules and routes. A change made through one process's API must reach the
// others' ingest and rule engine without a restart: every few seconds one cheap query fingerprints the
// configuration tables, and a change reloads the caches.
import type { Logger } from 'pino';
import type { AppContext } from './context.ts';

const FINGERPRINT = `select concat_ws('/',
  (select count(*) || ':' || coalesce(max(updated_at)::text, '') from devices),
  (select count(*) || ':' || coalesce(max(updated_at)::text, '') from rules),
  (select count(*) || ':' || coalesce(max(updated_at)::text, '') from routes),
  (select count(*) || ':' || coalesce(max(updated_at)::text, '') from codecs),
  (select count(*) || ':' || coalesce(max(updated_at)::text, '') from mqtt_credentials)) as f`;

export function startConfigSync(ctx: AppContext, log: Logger, everyMs = 2000): { stop(): void; check(): Promise<boolean> } {
  let last: string | undefined;
  let busy = false;
  const check = async (): Promise<boolean> => {
    if (busy) return false;
    busy = true;
    try {
      const f = (await ctx.db.query<{ f: string }>(FINGERPRINT)).rows[0]?.f;
      if (last === undefined || f === last) {
        last = f;
        return false;
      }
      last = f;
      await ctx.devices.reload();
      await ctx.credentials.load();
      await ctx.codecs?.load();
      await ctx.routes?.load();
      await ctx.rules?.load();
      log.info('configuration changed by another process, caches reloaded');
      return true;
    } catch (e) {
      log.debug({ err: (e as Error).message }, 'config sync skipped');
      return false;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  void check();
  return { stop: () => clearInterval(timer), check };
}
