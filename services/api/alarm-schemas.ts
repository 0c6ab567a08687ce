// Response schemas of the alarm role's resources (rules, routes, silences, alarms): what a client generator
// sees, and what the serializer lets through (webhook secrets never).
import { z } from 'zod';
import { targetSchema, webhookTargetSchema } from '../../alerts/channels/types.ts';
import { WEEKDAYS, whenSchema } from '../../alerts/routing/oncall.ts';
import { NOTIFY_ON } from '../../alerts/routing/route-schema.ts';
import { PRESETS, RULE_KINDS } from '../../alerts/rules/rule-types.ts';
import { SEVERITIES } from '../../alerts/types.ts';

const severity = z.enum(SEVERITIES);
const scope = z.object({ deviceIds: z.array(z.string()).optional(), tags: z.record(z.string(), z.string()).optional() });

/** A rule as stored: the body normalised (durations also in ms, levels sorted), with its id and municipality. */
export const ruleOut = z
  .object({
    id: z.string(),
    org: z.string(),
    name: z.string(),
    kind: z.enum(RULE_KINDS),
    metric: z.string().optional(),
    comparison: z.enum(['above', 'below']),
    scope,
    levels: z.array(
      z.object({
        severity,
        window: z.string().optional(),
        windowMs: z.number(),
        threshold: z.number(),
        strict: z.boolean().optional(),
        // a combined level: fires only when a device of the same catchment confirms [docs/warning-logic.md]
        and: z
          .object({
            metric: z.string(),
            kind: z.enum(['threshold', 'accumulation']),
            window: z.string().optional(),
            windowMs: z.number(),
            threshold: z.number(),
            tag: z.string(),
          })
          .optional(),
      }),
    ),
    for: z.string(),
    forMs: z.number(),
    clear: z.object({ hysteresis: z.number(), for: z.string(), forMs: z.number() }),
    mode: z.enum(['active', 'shadow']),
    enabled: z.boolean(),
    expectedInterval: z.string().optional(),
    expectedIntervalMs: z.number().optional(),
    intensityCap: z.number().optional(),
    preset: z.enum(PRESETS).optional(),
  })
  .meta({ id: 'Rule' });

const webhookOut = z.object({
  type: z.literal('webhook'),
  url: z.string(),
  secret: z.literal('whsec_…').describe('write-only: always this placeholder in answers'),
  format: z.enum(['regenwacht', 'alertmanager']),
  when: whenSchema.optional(),
});
/** Every target kind as a route takes it, except that a webhook's secret never comes back. */
const targetOut = z.discriminatedUnion('type', [webhookOut, ...targetSchema.options.filter((o) => o !== webhookTargetSchema)]);

/** A route as answered: webhook secrets replaced by a placeholder. */
export const routeOut = z
  .object({
    id: z.string(),
    org: z.string(),
    name: z.string(),
    match: z.object({
      minSeverity: severity,
      deviceIds: z.array(z.string()).optional(),
      tags: z.record(z.string(), z.string()).optional(),
      ruleIds: z.array(z.string()).optional(),
    }),
    targets: z.array(targetOut),
    notifyOn: z.array(z.enum(NOTIFY_ON)),
    repeatEvery: z.string().optional(),
    escalate: z.object({ after: z.string(), targets: z.array(targetOut) }).optional(),
    enabled: z.boolean(),
    // on-call plans [issue 16]: hours at which no target of a list is on duty by plan (then all of it is told)
    coverageGaps: z
      .array(
        z.object({
          list: z.enum(['targets', 'escalate.targets']),
          day: z.enum(WEEKDAYS).optional().describe('every week on this weekday (Europe/Berlin)'),
          date: z.string().optional().describe('on this date only: a holiday in a window’s except list'),
          from: z.string(),
          to: z.string(),
        }),
      )
      .describe('empty when every hour has a target on duty (a target without `when` covers every hour)'),
    // storm grouping [issue 16]
    groupBy: z.array(z.string()).optional().describe('"rule", "org" or "tag:<name>": alarms of one group are sent as one message'),
    groupWait: z.string().optional(),
    groupInterval: z.string().optional(),
  })
  .meta({ id: 'Route' });

export const silenceOut = z
  .object({
    id: z.string(),
    match: z.object({ deviceIds: z.array(z.string()).optional(), ruleIds: z.array(z.string()).optional(), tags: z.record(z.string(), z.string()).optional() }),
    startsAt: z.string(),
    endsAt: z.string(),
    comment: z.string(),
    createdBy: z.string(),
    org: z.string(),
  })
  .meta({ id: 'Silence' });

const alarmFields = {
  id: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  deviceId: z.string(),
  metric: z.string(),
  severity,
  state: z.enum(['firing', 'acknowledged', 'resolved', 'closed']),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  unit: z.string().nullable(),
  window: z.string().nullable().optional(),
  mode: z.enum(['active', 'shadow']),
  startedAt: z.string(),
  updatedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable().optional(),
  closedReason: z
    .string()
    .nullable()
    .optional()
    .describe("rule_disabled, rule_deleted, rule_changed, device_deleted, device_changed (re-tagged or moved out of the rule's scope)"),
};
export const alarmOut = z.object(alarmFields).meta({ id: 'Alarm' });

/** One alarm with its history, its notifications (receivers without secrets) and their delivery attempts. */
export const alarmDetailOut = z
  .object({
    ...alarmFields,
    org: z.string(),
    events: z.array(
      z.object({
        id: z.coerce.number(),
        at: z.string().nullable(),
        kind: z.string(),
        severity: z.string().nullable(),
        value: z.number().nullable(),
        threshold: z.number().nullable(),
        actor: z.string().nullable(),
        comment: z.string().nullable(),
      }),
    ),
    notifications: z.array(
      z.object({
        id: z.string(),
        routeId: z.string(),
        channel: z.string(),
        to: z.string().optional().describe('webhook URL or phone number'),
        type: z.string(),
        purpose: z.string(),
        state: z.string(),
        attempts: z.array(
          z.object({
            at: z.string().nullable(),
            ok: z.boolean(),
            status: z.number().nullable(),
            latencyMs: z.number(),
            error: z.string().nullable(),
            provider: z.string().optional().describe('SMS: the provider that took the message'),
            providerMessageId: z.string().nullable().optional(),
            report: z
              .object({ status: z.string(), at: z.string().nullable(), error: z.string().nullable() })
              .nullable()
              .optional()
              .describe("SMS: the provider's delivery report"),
          }),
        ),
        createdAt: z.string().nullable(),
        deliveredAt: z.string().nullable(),
        lastError: z.string().nullable(),
        handset: z
          .string()
          .optional()
          .describe(
            'SMS with delivery reports: awaiting, delivered, resent (through the next provider) or undelivered; voice call: calling, answered or unanswered',
          ),
      }),
    ),
  })
  .meta({ id: 'AlarmDetail' });

const transitionOut = z.object({
  kind: z.string(),
  ruleId: z.string(),
  deviceId: z.string(),
  metric: z.string(),
  severity,
  previousSeverity: severity.optional(),
  value: z.number(),
  threshold: z.number(),
  window: z.string().optional(),
  at: z.string(),
  mode: z.enum(['active', 'shadow']),
  since: z.number().optional(),
  closedReason: z.string().optional(),
  lastReadingAt: z.number().optional(),
});

export const backtestOut = z.object({
  ruleId: z.string(),
  from: z.string(),
  to: z.string(),
  readings: z.number().int().describe('readings replayed'),
  alarms: z.array(
    z.object({
      ruleId: z.string(),
      deviceId: z.string(),
      metric: z.string(),
      severity,
      maxSeverity: severity,
      startedAt: z.string(),
      resolvedAt: z.string().nullable(),
      value: z.number(),
      threshold: z.number(),
      mode: z.string(),
    }),
  ),
  transitions: z.array(transitionOut),
});
