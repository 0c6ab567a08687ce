// The one wiring function of the alarm feature: stores, then the alarm service, then the rule and route
// services. Everything a part needs is a constructor argument, so "go to definition" follows each call.
import type { Db } from '../db/db.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import { type AlarmHooks, AlarmService } from './alarm-service.ts';
import { RouteService } from './route-service.ts';
import { RouteStore } from './route-store.ts';
import { RuleService } from './rule-service.ts';
import { type OrgRule, RuleStore } from './rule-store.ts';

export interface AlarmFeature {
  alarms: AlarmService;
  rules: RuleService;
  routes: RouteService;
  /** reads rules and routes from the database; the rule service's onChanged runs once both are in */
  load(): Promise<void>;
}

export interface AlarmFeatureOptions {
  publicUrl: string;
  now: () => number;
  alarmHooks?: AlarmHooks;
  /** after every change of the rule set (the rule engine takes the new rules) */
  onRulesChanged?: () => void;
}

export function createAlarmFeature(db: Db, devices: DeviceRegistry, o: AlarmFeatureOptions): AlarmFeature {
  const routes = new RouteService(db, new RouteStore(db));
  // The alarm service looks rules up while storing transitions; the rule service closes alarms through it.
  const alarms: AlarmService = new AlarmService(
    db,
    devices,
    { rule: (id): OrgRule | undefined => rules.get(id), routes: () => routes.list() },
    o.publicUrl,
    o.now,
    o.alarmHooks,
  );
  const rules: RuleService = new RuleService(db, new RuleStore(db), alarms, { onChanged: o.onRulesChanged });
  return {
    alarms,
    rules,
    routes,
    async load() {
      await routes.load();
      await rules.load();
    },
  };
}
