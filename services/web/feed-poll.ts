// Alarm changes made by another process on the same PostgreSQL (ROLES split, $share groups, an API call
// answered by another instance) reach this process's live pages too: while anyone watches, the new rows of
// alarm_events are read once a second and passed to the feed, which drops the ones it announced itself.
import type { Logger } from 'pino';
import { type AlarmRow, toAlarm } from '../alarms/alarm-rows.ts';
import type { Db } from '../db/db.ts';
import type { AlarmChangeKind, LiveFeed } from './feed.ts';

export function startAlarmPoll(db: Db, feed: LiveFeed, log: Logger, intervalMs = 1000): { stop(): void } {
  let last: number | undefined;
  let busy = false;
  const newest = async () => Number((await db.query<{ id: string }>('select coalesce(max(id), 0) as id from alarm_events')).rows[0].id);
  const poll = async () => {
    feed.prune();
    // nobody watches: only keep up with the newest event, so the first viewer gets what happens from then on
    if (last === undefined || !feed.subscribers) {
      last = await newest();
      return;
    }
    const r = await db.query<AlarmRow & { event_id: string; event_kind: AlarmChangeKind }>(
      `select e.id as event_id, e.kind as event_kind, a.* from alarm_events e join alarms a on a.id = e.alarm_id
       where e.id > $1 order by e.id limit 500`,
      [last],
    );
    for (const row of r.rows) {
      last = Math.max(last, Number(row.event_id));
      if (row.mode !== 'active') continue;
      feed.alarmFromStore(toAlarm(row), row.event_kind);
    }
  };
  const tick = () => {
    if (busy) return;
    busy = true;
    poll()
      .catch((e) => log.warn({ err: (e as Error).message }, 'live console: reading alarm changes failed'))
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  // where to start reading is taken at once, not a second later: an alarm stored in that second, while a first
  // page already watched, would otherwise be taken as the starting point and never shown
  tick();
  return { stop: () => clearInterval(timer) };
}
