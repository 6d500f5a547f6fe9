/**
 * The alarm engine's decisions (pure): chattering folds into one episode, a unit offline inhibits
 * its dependent alarms in event-time order, floods are detected per window, late arrivals are
 * marked, and a rules file with mistakes is refused with every problem listed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AlarmRecord,
  type AlarmSignal,
  decide,
  fingerprint,
  floodReport,
  isStale,
  reconcileDigest,
} from '../src/domain/alarm-engine.ts';
import { type AlarmRulesError, DEFAULT_ALARM_RULES, holds, parseAlarmRules } from '../src/domain/alarm-rules.ts';

const rules = parseAlarmRules(DEFAULT_ALARM_RULES);
const T0 = Date.parse('2026-12-01T02:00:00Z');
const MIN = 60_000;

/** Applies signals in order against an in-memory store, as the service does against the database. */
function run(signals: AlarmSignal[], with_ = rules) {
  const episodes = new Map<string, AlarmRecord>();
  const occurrences = new Map<string, string>();
  const tickets: string[] = [];
  for (const s of signals) {
    const unitOpen = [...episodes.values()].filter((r) => r.unitId === s.unitId && r.state !== 'cleared');
    const lastOfKind = [...episodes.values()]
      .filter((r) => r.unitId === s.unitId && r.kind === s.kind)
      .sort((a, b) => b.raisedAt - a.raisedAt)[0];
    const fp = fingerprint(s.unitId, s.kind, s.occurrence);
    const knownId = occurrences.get(fp);
    const d = decide(with_, { known: knownId ? episodes.get(knownId) : undefined, lastOfKind, unitOpen }, s);
    if (!d.record) continue;
    let r = d.record;
    if (d.ticket === 'open' && d.joins) r = { ...r, ticketId: d.joins };
    else if (d.ticket === 'open') {
      r = { ...r, ticketId: `t${tickets.length}` };
      tickets.push(r.episode);
    }
    episodes.set(r.episode, r);
    occurrences.set(fp, r.episode);
    for (const e of d.inhibits) {
      const x = episodes.get(e);
      if (x) episodes.set(e, { ...x, inhibitedBy: r.episode });
    }
  }
  return { episodes: [...episodes.values()], tickets };
}

const sig = (kind: AlarmSignal['kind'], occurrence: string, state: 'raised' | 'cleared', ts: number, receivedAt = ts): AlarmSignal => ({
  unitId: 'hrb-001',
  kind,
  occurrence,
  state,
  severity: 'major',
  source: 'unit',
  ts,
  receivedAt,
});

test('a chattering alarm (raise, clear, raise … within the window) is one episode and one ticket', () => {
  const signals: AlarmSignal[] = [];
  for (let i = 0; i < 8; i++) {
    signals.push(sig('motion', `motion-${i}`, 'raised', T0 + i * 2 * MIN), sig('motion', `motion-${i}`, 'cleared', T0 + (i * 2 + 1) * MIN));
  }
  const { episodes, tickets } = run(signals);
  assert.equal(episodes.length, 1);
  assert.equal(tickets.length, 1);
  assert.equal(episodes[0]?.chatter, 7, 'seven re-raises folded');
  // Past the window (300 s for motion), a raise is a new episode.
  const later = run([...signals, sig('motion', 'motion-x', 'raised', T0 + 16 * MIN + 301_000)]);
  assert.equal(later.episodes.length, 2);
});

test("an offline unit's dependent alarms are inhibited, ordered by event time — also when the offline arrives late", () => {
  const offline = { ...sig('unit-offline', String(T0), 'raised', T0), source: 'fleet' as const };
  const before = sig('camera-lost', 'c1', 'raised', T0 - MIN);
  const afterIt = sig('missed-contact', 'm1', 'raised', T0 + MIN);
  const a = run([before, offline, afterIt]);
  const by = (k: string) => a.episodes.find((r) => r.kind === k);
  assert.equal(by('camera-lost')?.inhibitedBy, null, 'it happened before the unit went offline: not explained by it');
  assert.equal(by('missed-contact')?.inhibitedBy, by('unit-offline')?.episode);
  assert.deepEqual(a.tickets.length, 2, 'camera-lost and unit-offline have tickets, the missed contact does not');
  // The offline reaches the fleet after the dependent alarm it explains: it still inhibits it.
  const late = run([sig('camera-lost', 'c2', 'raised', T0 + 2 * MIN), offline]);
  assert.equal(
    late.episodes.find((r) => r.kind === 'camera-lost')?.inhibitedBy,
    late.episodes.find((r) => r.kind === 'unit-offline')?.episode,
  );
  // An intrusion is not the unit's structure: never inhibited.
  const intrusion = run([offline, sig('motion', 'x', 'raised', T0 + MIN)]);
  assert.equal(intrusion.episodes.find((r) => r.kind === 'motion')?.inhibitedBy, null);
});

test('a towed unit that reports its geofence breach has one ticket, whichever reaches the fleet first: the fleet seeing it off its site is inhibited', () => {
  const geofence = { ...sig('geofence', 'g1', 'raised', T0), severity: 'critical' as const };
  const leftSite = { ...sig('left-site', String(T0 + 4000), 'raised', T0 + 4000), source: 'fleet' as const };
  const towed = run([geofence, leftSite]);
  assert.equal(towed.tickets.length, 1);
  assert.equal(towed.episodes.find((r) => r.kind === 'left-site')?.inhibitedBy, towed.episodes.find((r) => r.kind === 'geofence')?.episode);
  // A unit with no geofence of its own: the fleet's rule is what finds it.
  assert.equal(run([leftSite]).tickets.length, 1);
  // The fleet saw it off its site first: the unit's own breach, of an earlier event time, joins that ticket.
  const fleetFirst = run([
    { ...leftSite, ts: T0 + 4000 },
    { ...geofence, receivedAt: T0 + 9000 },
  ]);
  assert.equal(fleetFirst.tickets.length, 1);
  const byKind = (k: string) => fleetFirst.episodes.find((r) => r.kind === k);
  assert.equal(byKind('left-site')?.inhibitedBy, byKind('geofence')?.episode);
  assert.equal(byKind('geofence')?.ticketId, byKind('left-site')?.ticketId);
  // As towed in the demo: the fleet sees the position at once, the unit confirms its breach 30 s later.
  const confirmedLater = run([leftSite, { ...geofence, ts: T0 + 4000 + 30_000, receivedAt: T0 + 40_000 }]);
  assert.equal(confirmedLater.tickets.length, 1, 'within the left-site rule’s inhibitedLeadS of 120 s: one ticket');
  const later = (k: string) => confirmedLater.episodes.find((r) => r.kind === k);
  assert.equal(later('left-site')?.inhibitedBy, later('geofence')?.episode);
  // A breach long after the fleet saw the unit leave is not explained by it.
  assert.equal(run([leftSite, { ...geofence, ts: T0 + 4000 + 600_000 }]).tickets.length, 2);
  // Where the rules route the two to different departments, each keeps its own ticket.
  const apart = structuredClone(DEFAULT_ALARM_RULES) as { kinds: Record<string, Record<string, unknown>> };
  (apart.kinds['left-site'] as Record<string, unknown>).category = 'unit-maintenance';
  assert.equal(
    run(
      [
        { ...leftSite, ts: T0 + 4000 },
        { ...geofence, receivedAt: T0 + 9000 },
      ],
      parseAlarmRules(apart),
    ).tickets.length,
    2,
  );
});

test('a fleet-side condition raised twice (two instances watching one unit) is one episode with no repeats', () => {
  const fleetSig = (ts: number) => ({ ...sig('power-runout', String(ts), 'raised', ts), source: 'fleet' as const });
  const { episodes, tickets } = run([fleetSig(T0), fleetSig(T0 + 1000), fleetSig(T0)]);
  assert.deepEqual([episodes.length, episodes[0]?.repeats, episodes[0]?.chatter, tickets.length], [1, 0, 0, 1]);
});

test('an alarm found in back-filled data is marked late and keeps both times; stale when untouched', () => {
  const { episodes } = run([sig('tamper', 't1', 'raised', T0, T0 + 3 * 3_600_000)]);
  const r = episodes[0];
  assert.deepEqual([r?.late, r?.raisedAt, r?.receivedAt], [true, T0, T0 + 3 * 3_600_000]);
  assert.equal(run([sig('tamper', 't1', 'raised', T0, T0 + 60_000)]).episodes[0]?.late, false);
  assert.equal(isStale(rules, r as AlarmRecord, T0 + 3 * 3_600_000 + 25 * 3_600_000), true);
  assert.equal(isStale(rules, r as AlarmRecord, T0 + 4 * 3_600_000), false);
});

test('a flood is more than 10 alarms in 10 minutes; its share of time and priority mix are reported', () => {
  const arrivals = Array.from({ length: 11 }, (_, i) => ({
    at: T0 + i * 30_000,
    priority: i < 3 ? ('urgent' as const) : ('high' as const),
  }));
  const r = floodReport(rules, arrivals, T0, T0 + 60 * MIN);
  assert.equal(r.periods.length, 1);
  // Starts at the 11th arrival (5 min in), ends when the first leaves the window (10 min in).
  assert.deepEqual(r.periods[0], { start: T0 + 5 * MIN, end: T0 + 10 * MIN });
  assert.equal(r.floodShare, 5 / 60);
  assert.deepEqual(r.priorityMix, { urgent: 3, high: 8, medium: 0, low: 0 });
  assert.equal(floodReport(rules, arrivals.slice(1), T0, T0 + 60 * MIN).periods.length, 0, 'ten is not a flood');
  assert.equal(floodReport(rules, arrivals, T0, T0 + 7 * MIN).inFlood, true);
});

test('a digest that ran out of room clears nothing', () => {
  const open = run([sig('tamper', 't1', 'raised', T0)]).episodes;
  const digest = {
    seq: 9,
    ts: T0 + MIN,
    power: { soc: 50, batteryV: 13, solarW: 0, windW: 0, loadW: 1, state: 'satellite-digest' as const },
    alarms: [],
  };
  assert.equal(reconcileDigest('hrb-001', digest, open, T0 + MIN).length, 1);
  assert.equal(reconcileDigest('hrb-001', { ...digest, alarmsMore: 3 }, open, T0 + MIN).length, 0);
});

test('rules are data, checked at load with every problem and its path', () => {
  const wrongType = structuredClone(DEFAULT_ALARM_RULES) as { kinds: Record<string, Record<string, unknown>> };
  wrongType.kinds.tilt = { category: 'road-works' };
  assert.throws(
    () => parseAlarmRules(wrongType),
    (e: AlarmRulesError) => e.problems.some((p) => p.startsWith('/kinds/tilt/category')),
  );
  assert.equal(parseAlarmRules(structuredClone(DEFAULT_ALARM_RULES)).kinds.motion.chatterWindowS, 300, 'defaults filled in');
  const again = structuredClone(DEFAULT_ALARM_RULES) as { kinds: Record<string, Record<string, unknown>> };
  again.kinds['left-site'] = {
    category: 'public-security',
    severity: 'major',
    when: { path: 'outlook.location.distanceMeters', op: '>', value: 200 },
  };
  again.kinds.smoke = { category: 'fire-safety' };
  delete again.kinds['sim-cap'];
  assert.throws(
    () => parseAlarmRules(again),
    (e: AlarmRulesError) => {
      assert.deepEqual(e.problems, [
        '/kinds/sim-cap: missing (every alarm kind needs a rule)',
        '/kinds/left-site/when/path: unknown field outlook.location.distanceMeters',
        '/kinds/smoke: unknown alarm kind (known: tamper, tilt, motion, low-battery, over-temperature, geofence, fire, power-loss, missed-contact, unit-offline, power-runout, left-site, sim-cap, camera-lost)',
      ]);
      return true;
    },
  );
  assert.equal(
    holds({ path: 'outlook.power.timeToEmptyH', op: '<', value: 12 }, { outlook: { power: { timeToEmptyH: null } } }),
    false,
    'no data is no alarm',
  );
});
