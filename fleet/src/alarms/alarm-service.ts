import type { Alarm, Digest } from '@shouwang/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import {
  type AlarmRecord,
  type AlarmSignal,
  decide,
  fingerprint,
  floodReport,
  isShelved,
  isStale,
  reconcileDigest,
} from '../domain/alarm-engine.ts';
import type { AlarmRules } from '../domain/alarm-rules.ts';
import type { Grid } from '../grid/grid.ts';
import type { LoopChange } from '../services/loop-changes.ts';
import type { AlarmStore } from '../storage/alarm-store.ts';
import { type BatchStores, LoopBatch } from '../storage/loop-batch.ts';
import type { Database } from '../storage/schema.ts';
import type { Evidence, TicketService } from '../tickets/ticket-service.ts';

/** An alarm-bearing message as it came off the wire, decoded. */
export type IntakeMessage =
  | { kind: 'alarm'; unitId: string; payload: Alarm; receivedAt: number }
  | { kind: 'digest'; unitId: string; payload: Digest; receivedAt: number };

export interface AlarmServiceOptions {
  db: Kysely<Database>;
  stores: BatchStores;
  tickets: TicketService;
  rules: AlarmRules;
  grid: Grid;
  clock: { now(): number };
  /** Where the unit is when its alarm carries no position: live state, else the registry's site. */
  positionOf(unitId: string): { lat: number; lon: number } | null;
  /** The unit's latest readings, attached to the ticket as evidence. */
  readingsOf(unitId: string): Record<string, unknown>;
  /** Hears what each commit changed (the live views, services/loop-changes.ts). */
  changed?: (c: LoopChange) => void;
  log: Logger;
}

export class AlarmError extends Error {
  readonly code: 'NOT_FOUND' | 'CONFLICT';
  constructor(code: AlarmError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

function alarmSignal(unitId: string, a: Alarm, receivedAt: number): AlarmSignal {
  return {
    unitId,
    kind: a.kind,
    occurrence: a.id,
    state: a.state,
    severity: a.severity,
    source: 'unit',
    ts: a.ts,
    receivedAt,
    ...(a.lat !== undefined && a.lon !== undefined ? { lat: a.lat, lon: a.lon } : {}),
    ...(a.value !== undefined ? { value: a.value } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  };
}

/** An episode as the API shows it: the record plus what it means now. */
export type AlarmView = AlarmRecord & { district: string | null; stale: boolean; shelved: boolean };

/**
 * Alarms from the wire and from the fleet's own rules, through the engine, into storage and the
 * ticket loop — messages in batches, each batch one transaction that also records its messages as
 * taken, so a redelivered or doubly delivered message (two instances) changes nothing the second time.
 */
export class AlarmService {
  readonly #o: AlarmServiceOptions;
  /** Messages taken and duplicates skipped, for health. */
  readonly counts = { taken: 0, duplicates: 0, signals: 0 };

  constructor(o: AlarmServiceOptions) {
    this.#o = o;
  }

  get rules(): AlarmRules {
    return this.#o.rules;
  }

  /**
   * Messages from the wire, in the order they arrived, in one transaction: each is recorded as
   * taken (a redelivery, or the other instance's copy, changes nothing the second time) and its
   * signals go through the engine one after another. Answers, per message, whether it was new.
   * `writing` hears when the batch's reads and decisions are done and its writes begin.
   */
  async take(messages: readonly IntakeMessage[], writing?: () => void): Promise<boolean[]> {
    const first = new Map<string, number>();
    messages.forEach((m, i) => {
      const k = `${m.unitId}~${m.payload.seq}`;
      if (!first.has(k)) first.set(k, i);
    });
    const fingerprints = messages.flatMap((m) =>
      m.kind === 'alarm'
        ? [fingerprint(m.unitId, m.payload.kind, m.payload.id)]
        : m.payload.alarms.map((a) => fingerprint(m.unitId, a.kind, a.id)),
    );
    let changed: LoopChange = {};
    const taken = await this.#o.db.transaction().execute(async (tx) => {
      const b = await LoopBatch.open(tx, this.#o.stores, new Set(messages.map((m) => m.unitId)), fingerprints);
      const fresh = await this.#o.stores.alarms.takeMany(
        tx,
        [...first.values()].map((i) => {
          const m = messages[i] as IntakeMessage;
          return { unit_id: m.unitId, seq: m.payload.seq, received_at: m.receivedAt };
        }),
      );
      const out = messages.map((m, i) => {
        const k = `${m.unitId}~${m.payload.seq}`;
        return first.get(k) === i && fresh.has(k);
      });
      for (const [i, m] of messages.entries()) {
        if (!out[i]) continue;
        if (m.kind === 'alarm') await this.#apply(b, alarmSignal(m.unitId, m.payload, m.receivedAt));
        else
          for (const s of reconcileDigest(m.unitId, m.payload, b.openOfUnit(m.unitId), m.receivedAt)) {
            const known = s.state === 'cleared' ? b.openOfUnit(m.unitId).find((r) => r.episode === s.occurrence) : undefined;
            await this.#apply(b, s, known);
          }
      }
      writing?.();
      await b.flush();
      changed = b.changed;
      return out;
    });
    this.#o.changed?.(changed);
    for (const t of taken)
      if (t) this.counts.taken++;
      else this.counts.duplicates++;
    return taken;
  }

  /** A fleet-side rule's raise or clear (no message to take: the condition itself is the key). */
  async signal(s: AlarmSignal): Promise<void> {
    this.counts.signals++;
    const changed = await this.#o.db.transaction().execute(async (tx) => {
      const b = await LoopBatch.open(tx, this.#o.stores, [s.unitId], [fingerprint(s.unitId, s.kind, s.occurrence)]);
      await this.#apply(b, s);
      await b.flush();
      return b.changed;
    });
    this.#o.changed?.(changed);
  }

  async #apply(b: LoopBatch, s: AlarmSignal, knownOverride?: AlarmRecord): Promise<void> {
    const fp = fingerprint(s.unitId, s.kind, s.occurrence);
    const d = decide(
      this.#o.rules,
      { known: knownOverride ?? (await b.known(fp)), lastOfKind: b.lastOfKind(s.unitId, s.kind), unitOpen: b.openOfUnit(s.unitId) },
      s,
    );
    if (!d.record) return;
    let record = d.record;
    const position = record.lat !== null && record.lon !== null ? { lat: record.lat, lon: record.lon } : this.#o.positionOf(s.unitId);
    const route = this.#o.grid.route(position, record.category);
    if (d.ticket !== 'none') {
      const evidence: Evidence = {
        position,
        readings: this.#o.readingsOf(s.unitId),
        alarm: {
          ts: s.ts,
          receivedAt: s.receivedAt,
          severity: s.severity,
          value: record.value,
          message: record.message,
          late: record.late,
        },
        snapshots: [],
        clips: [],
      };
      if (d.ticket === 'open') record = { ...record, ticketId: await this.#o.tickets.openOrMerge(b, record, route, evidence, d.joins) };
      else if (record.ticketId) await this.#o.tickets.merge(b, record.ticketId, record, evidence);
    }
    b.save(record, fp, route.district);
    b.inhibit(d.inhibits, record.episode);
  }

  // The console's side

  async list(filter: {
    state?: 'active' | 'acknowledged' | 'cleared';
    unitId?: string;
    district?: string;
    limit: number;
  }): Promise<AlarmView[]> {
    const now = this.#o.clock.now();
    return (await this.#o.stores.alarms.list(filter)).map((r) => ({
      ...r,
      stale: isStale(this.#o.rules, r, now),
      shelved: isShelved(r, now),
    }));
  }

  async get(episode: string): Promise<AlarmRecord> {
    const r = await this.#o.stores.alarms.get(episode);
    if (!r) throw new AlarmError('NOT_FOUND', `no alarm ${episode}`);
    return r;
  }

  async acknowledge(episode: string, who: string): Promise<void> {
    const now = this.#o.clock.now();
    const ok = await this.#person(episode, ['active'], { state: 'acknowledged', acked_by: who, acked_at: now, updated_at: now });
    if (!ok) throw new AlarmError('CONFLICT', `alarm ${episode} is not active`);
  }

  /** A person's change, under the unit's lock: a signal being decided meanwhile cannot write over it. */
  async #person(episode: string, from: readonly AlarmRecord['state'][], patch: Parameters<AlarmStore['update']>[3]): Promise<boolean> {
    const r = await this.get(episode);
    const ok = await this.#o.stores.alarms.inUnit(r.unitId, (tx) => this.#o.stores.alarms.update(tx, episode, from, patch));
    if (ok) this.#o.changed?.({ episodes: [episode] });
    return ok;
  }

  async shelve(episode: string, who: string, reason: string, minutes: number): Promise<void> {
    const now = this.#o.clock.now();
    const until = now + minutes * 60_000;
    const ok = await this.#person(episode, ['active', 'acknowledged'], {
      shelved_until: until,
      shelved_by: who,
      shelve_reason: reason,
      updated_at: now,
    });
    if (!ok) throw new AlarmError('CONFLICT', `alarm ${episode} is cleared`);
  }

  async comment(episode: string, who: string, text: string): Promise<void> {
    await this.get(episode);
    await this.#o.stores.alarms.comment({ id: crypto.randomUUID(), episode, at: this.#o.clock.now(), author: who, text });
  }

  comments(episode: string) {
    return this.#o.stores.alarms.comments(episode);
  }

  /** Flood state per district over a period (ISA-18.2: more than 10 alarms in 10 minutes). */
  async flood(from: number, to: number) {
    const rows = await this.#o.stores.alarms.arrivals(from - this.#o.rules.flood.windowS * 1000, to);
    const byDistrict = new Map<string, { at: number; priority: AlarmRecord['priority'] }[]>();
    for (const r of rows) {
      const k = r.district ?? '(none)';
      const arrival = { at: r.received_at, priority: r.priority as AlarmRecord['priority'] };
      const l = byDistrict.get(k);
      if (l) l.push(arrival);
      else byDistrict.set(k, [arrival]);
    }
    return [...byDistrict.entries()].map(([district, arrivals]) => ({ district, ...floodReport(this.#o.rules, arrivals, from, to) }));
  }
}
