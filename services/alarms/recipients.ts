// Who of a route's target list hears one event: the on-call plan (targets with `when` windows on duty, else
// the targets without a window, else everybody), calls only for events that ask for action, and the follow-ups
// of an alarm (acknowledged, all-clear …) to whom the route told about it. [issue 16] [docs/formats.md On-call windows]
import type { NotificationEventType, Target } from '../../alerts/channels/types.ts';
import { callWanted } from '../../alerts/channels/voice.ts';
import { type Selection, targetsOnDuty } from '../../alerts/routing/oncall.ts';

/** A target as the outbox knows it: route, channel and address (what the alarm store's TOLD_TARGETS_SQL selects). */
export const targetKey = (routeId: string, t: Target): string => `${routeId} ${t.type} ${t.type === 'webhook' ? t.url : t.to}`;

export function recipients(
  targets: readonly Target[],
  o: { at: number; type: NotificationEventType; routeId: string; followUp?: boolean; told?: ReadonlySet<string> },
): Selection<Target> {
  const list = targets.filter((t) => t.type !== 'call' || callWanted(o.type));
  if (o.followUp && o.told && targets.some((t) => t.when)) {
    const told = list.filter((t) => o.told!.has(targetKey(o.routeId, t)));
    if (told.length) return { targets: told, gap: false };
  }
  return targetsOnDuty(list, o.at);
}

/** The alarm event written when nobody on a list was on duty by plan and everybody was told instead. */
export const gapComment = (routeName: string) => `Route „${routeName}“: laut Dienstplan niemand im Dienst – alle Empfänger benachrichtigt`;
