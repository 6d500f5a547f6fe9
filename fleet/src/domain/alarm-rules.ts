import { ALARM_KINDS, SEVERITIES, type Severity, StringEnum } from '@shouwang/protocol';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Alarm rules as data: what each alarm kind means (priority, the department category that acts on
 * it, how long a clear may last before a re-raise is chatter, when an untouched alarm is stale,
 * which of the unit's own alarms suppress it), plus the fleet-side rules over a unit's live view.
 * Operators change them in a JSON file (`alarms.rulesFile`); `parseAlarmRules` refuses a file with
 * every problem listed and its path, before the fleet starts.
 */

/** Kinds the fleet raises itself from live state (the unit cannot report its own silence). */
export const FLEET_ALARM_KINDS = ['missed-contact', 'unit-offline', 'power-runout', 'left-site', 'sim-cap', 'camera-lost'] as const;
export type FleetAlarmKind = (typeof FLEET_ALARM_KINDS)[number];
export const ANY_ALARM_KINDS = [...ALARM_KINDS, ...FLEET_ALARM_KINDS] as const;
export type AnyAlarmKind = (typeof ANY_ALARM_KINDS)[number];

/** Who acts on an alarm: the departments of the grid-governance loop, plus the fleet's own crew. */
export const CATEGORIES = ['public-security', 'fire-safety', 'city-management', 'utilities', 'unit-maintenance'] as const;
export type Category = (typeof CATEGORIES)[number];

/** ISA-18.2 priorities, most urgent first. */
export const PRIORITIES = ['urgent', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * A condition over the unit's live view (`UnitView`): the value at `path` compared with `value`.
 * `at` names a field holding the condition's event time (e.g. `liveness.dueBy`: a missed window
 * happened at its deadline, not when the fleet noticed).
 */
const Condition = Type.Object(
  {
    path: Type.String({ description: 'Dotted path into the unit view, e.g. outlook.power.timeToEmptyH' }),
    op: StringEnum(['<', '<=', '>', '>=', '=', 'in', 'includes'] as const),
    value: Type.Union([Type.Number(), Type.String(), Type.Array(Type.String())]),
    at: Type.Optional(Type.String({ description: 'Path to the event time of the condition, ms' })),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof Condition>;

const KindRule = Type.Object(
  {
    priority: Type.Optional(StringEnum(PRIORITIES)),
    /** Fleet-side kinds carry their own severity; unit kinds take the unit's. */
    severity: Type.Optional(StringEnum(SEVERITIES)),
    category: StringEnum(CATEGORIES),
    /** A raise within this long of the last clear joins the same episode (chattering). */
    chatterWindowS: Type.Integer({ minimum: 0, default: 300 }),
    /** Active and untouched (no ack, no change) for this long: flagged stale. */
    staleAfterH: Type.Number({ exclusiveMinimum: 0, default: 24 }),
    /** Active alarms of these kinds on the same unit, raised at or before this one, suppress it. */
    inhibitedBy: Type.Array(StringEnum(ANY_ALARM_KINDS), { default: [] }),
    /**
     * Also those raised up to this long after it: the inhibitor's own detection lag (a unit confirms
     * its geofence breach only once it has held for 30 s; the fleet sees the position at once).
     */
    inhibitedLeadS: Type.Integer({ minimum: 0, default: 0 }),
    /** Opens a ticket (false: console only). */
    ticket: Type.Boolean({ default: true }),
    when: Type.Optional(Condition),
  },
  { additionalProperties: false },
);
export type KindRule = Static<typeof KindRule>;

export const AlarmRulesSchema = Type.Object(
  {
    kinds: Type.Record(Type.String(), KindRule),
    /** ISA-18.2 flood: more than `count` new alarms within `windowS` in one district. */
    flood: Type.Object(
      { count: Type.Integer({ minimum: 1, default: 10 }), windowS: Type.Integer({ minimum: 1, default: 600 }) },
      { additionalProperties: false, default: {} },
    ),
    /** An alarm arriving this long after its event time is marked late (back-filled). */
    lateAfterS: Type.Integer({ minimum: 0, default: 120 }),
  },
  { additionalProperties: false },
);
export type AlarmRules = Static<typeof AlarmRulesSchema> & { kinds: Record<AnyAlarmKind, KindRule> };

/** Fields of the unit view a condition may read; a typo in a rule file is refused, not silently false. */
export const CONDITION_PATHS = [
  'online',
  'liveness.status',
  'liveness.dueBy',
  'liveness.missingAfter',
  'liveness.projectedSoc',
  'outlook.power.timeToEmptyH',
  'outlook.location.distanceM',
  'outlook.link.budgetHoursLeft',
  'commissioning.failed',
  'commissioning.at',
  'power.soc',
  'power.ts',
  'lastSeen',
] as const;

const SEVERITY_PRIORITY: Record<Severity, Priority> = { critical: 'urgent', major: 'high', minor: 'medium', info: 'low' };

export function priorityOf(rule: KindRule, severity: Severity): Priority {
  return rule.priority ?? SEVERITY_PRIORITY[severity];
}

export class AlarmRulesError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid alarm rules:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Defaults, then schema, then what a schema cannot say (known kinds, known paths, conditions where needed). */
export function parseAlarmRules(raw: unknown): AlarmRules {
  const value = Value.Default(AlarmRulesSchema, Value.Clone(raw)) as { kinds?: unknown };
  // Defaults do not reach inside a record's values: one kind at a time.
  if (value.kinds && typeof value.kinds === 'object')
    for (const [k, v] of Object.entries(value.kinds)) (value.kinds as Record<string, unknown>)[k] = Value.Default(KindRule, v);
  const problems = [...Value.Errors(AlarmRulesSchema, value)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (problems.length > 0) throw new AlarmRulesError(problems);
  const rules = value as Static<typeof AlarmRulesSchema>;
  const known: ReadonlySet<string> = new Set(ANY_ALARM_KINDS);
  const fleetKinds: ReadonlySet<string> = new Set(FLEET_ALARM_KINDS);
  const paths: ReadonlySet<string> = new Set(CONDITION_PATHS);
  for (const kind of ANY_ALARM_KINDS) if (!rules.kinds[kind]) problems.push(`/kinds/${kind}: missing (every alarm kind needs a rule)`);
  for (const [kind, rule] of Object.entries(rules.kinds)) {
    const at = `/kinds/${kind}`;
    if (!known.has(kind)) problems.push(`${at}: unknown alarm kind (known: ${ANY_ALARM_KINDS.join(', ')})`);
    if (fleetKinds.has(kind) && !rule.when) problems.push(`${at}/when: a fleet-side kind needs a condition`);
    if (fleetKinds.has(kind) && !rule.severity) problems.push(`${at}/severity: a fleet-side kind needs a severity`);
    if (!fleetKinds.has(kind) && rule.when) problems.push(`${at}/when: the unit raises ${kind}; a condition would never be read`);
    if (rule.when && !paths.has(rule.when.path)) problems.push(`${at}/when/path: unknown field ${rule.when.path}`);
    if (rule.when?.at && !paths.has(rule.when.at)) problems.push(`${at}/when/at: unknown field ${rule.when.at}`);
    if (rule.inhibitedBy.includes(kind as AnyAlarmKind)) problems.push(`${at}/inhibitedBy: an alarm cannot inhibit itself`);
  }
  if (problems.length > 0) throw new AlarmRulesError(problems);
  return rules as AlarmRules;
}

/** Shipped defaults: intrusion and fire go to the police and the fire brigade; the unit's own troubles to its crew. */
export const DEFAULT_ALARM_RULES: unknown = {
  kinds: {
    motion: { category: 'public-security', chatterWindowS: 300 },
    tamper: { category: 'public-security' },
    tilt: { category: 'unit-maintenance' },
    fire: { category: 'fire-safety', priority: 'urgent', chatterWindowS: 600 },
    geofence: { category: 'public-security' },
    'low-battery': { category: 'unit-maintenance', inhibitedBy: ['unit-offline'] },
    'over-temperature': { category: 'unit-maintenance' },
    'power-loss': { category: 'utilities' },
    'missed-contact': {
      category: 'unit-maintenance',
      severity: 'minor',
      inhibitedBy: ['unit-offline'],
      when: { path: 'liveness.status', op: 'in', value: ['late'], at: 'liveness.dueBy' },
    },
    'unit-offline': {
      category: 'unit-maintenance',
      severity: 'major',
      when: { path: 'liveness.status', op: 'in', value: ['missing', 'presumed-out-of-power'], at: 'liveness.missingAfter' },
    },
    'power-runout': { category: 'unit-maintenance', severity: 'major', when: { path: 'outlook.power.timeToEmptyH', op: '<', value: 12 } },
    // A unit that reports its own geofence breach is the same towed unit: one ticket. The unit
    // raises it 30 s after the first fix outside (GNSS multipath), a fix or two after the fleet saw it.
    'left-site': {
      category: 'public-security',
      severity: 'major',
      inhibitedBy: ['geofence'],
      inhibitedLeadS: 120,
      when: { path: 'outlook.location.distanceM', op: '>', value: 200 },
    },
    'sim-cap': { category: 'unit-maintenance', severity: 'minor', when: { path: 'outlook.link.budgetHoursLeft', op: '<', value: 72 } },
    'camera-lost': {
      category: 'unit-maintenance',
      severity: 'minor',
      inhibitedBy: ['unit-offline'],
      when: { path: 'commissioning.failed', op: 'includes', value: 'camera', at: 'commissioning.at' },
    },
  },
};

function read(view: unknown, path: string): unknown {
  let v: unknown = view;
  for (const part of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/** Whether a condition holds for a view; a missing field never holds (no data is not an alarm). */
export function holds(c: Condition, view: unknown): boolean {
  const v = read(view, c.path);
  if (v === undefined || v === null) return false;
  switch (c.op) {
    case '<':
      return typeof v === 'number' && v < Number(c.value);
    case '<=':
      return typeof v === 'number' && v <= Number(c.value);
    case '>':
      return typeof v === 'number' && v > Number(c.value);
    case '>=':
      return typeof v === 'number' && v >= Number(c.value);
    case '=':
      return v === c.value;
    case 'in':
      return Array.isArray(c.value) && c.value.includes(String(v));
    case 'includes':
      return Array.isArray(v) && v.includes(c.value);
  }
}

/** The event time of a condition: its `at` field when the view carries it, else `now`. */
export function conditionTime(c: Condition, view: unknown, now: number): number {
  const at = c.at ? read(view, c.at) : undefined;
  return typeof at === 'number' && at <= now ? at : now;
}
