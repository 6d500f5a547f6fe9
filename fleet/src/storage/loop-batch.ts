import type { Kysely } from 'kysely';
import type { AlarmRecord } from '../domain/alarm-engine.ts';
import type { AlarmStore } from './alarm-store.ts';
import { JsonInserts } from './bulk.ts';
import type { FlowsOutbox, OutboxEntry } from './flows-outbox.ts';
import type { Database, TicketEventRow, TicketRow, TicketTimerRow } from './schema.ts';
import type { TicketStore } from './ticket-store.ts';

export interface BatchStores {
  alarms: AlarmStore;
  tickets: TicketStore;
  outbox: FlowsOutbox;
}

const pair = (unitId: string, kind: string) => `${unitId}~${kind}`;

/**
 * One transaction's view of the alarm and ticket tables for a set of units, read in a few
 * set-based queries and written back in a few multi-row statements. The engine decides signal
 * after signal in memory, each seeing what the ones before it changed; the units are locked for
 * the transaction (PostgreSQL advisory locks), so nothing else decides on them meanwhile.
 *
 * What is loaded for the batch's units is complete: every episode not cleared, the latest episode
 * of each kind, every ticket not closed. Lookups by fingerprint, idempotency key and ticket id
 * beyond what was loaded go to the database (a digest's clears, an episode whose ticket closed).
 */
export class LoopBatch {
  readonly tx: Kysely<Database>;
  readonly #s: BatchStores;
  readonly #units: ReadonlySet<string>;
  readonly #episodes = new Map<string, AlarmRecord>();
  readonly #ofUnit = new Map<string, Set<string>>();
  /** fingerprint → episode; null: known to have none. */
  readonly #byFp = new Map<string, string | null>();
  /** unit~kind → the latest episode by event time. */
  readonly #last = new Map<string, string>();
  /** Episodes to write, with the district they are routed to (kept from the first write). */
  readonly #dirty = new Map<string, string | null>();
  /**
   * Episodes this batch opened: no row has their id, since it is their first fingerprint, found
   * nowhere under the unit's lock (a row of it elsewhere is a bug, refused by the plain insert).
   */
  readonly #opened = new Set<string>();
  readonly #newFps: { fingerprint: string; episode: string }[] = [];
  readonly #tickets = new Map<string, TicketRow>();
  /** idempotency key → ticket id; null: known to have none. */
  readonly #byKey = new Map<string, string | null>();
  /** unit~kind → the oldest ticket not closed. */
  readonly #open = new Map<string, string>();
  readonly #newTickets = new Set<string>();
  readonly #patches = new Map<string, Partial<TicketRow>>();
  readonly #events: TicketEventRow[] = [];
  readonly #timers: TicketTimerRow[] = [];
  readonly #outbox: OutboxEntry[] = [];

  private constructor(tx: Kysely<Database>, stores: BatchStores, units: ReadonlySet<string>) {
    this.tx = tx;
    this.#s = stores;
    this.#units = units;
  }

  /** Inside `tx`: locks the units and reads what deciding on them needs. */
  static async open(
    tx: Kysely<Database>,
    stores: BatchStores,
    unitIds: Iterable<string>,
    fingerprints: readonly string[],
  ): Promise<LoopBatch> {
    const units = new Set(unitIds);
    const b = new LoopBatch(tx, stores, units);
    const ids = [...units];
    await stores.alarms.lockUnits(tx, ids);
    const { context, known } = await stores.alarms.startOfBatch(tx, ids, fingerprints);
    for (const r of context) b.#put(r);
    for (const fp of fingerprints) {
      const r = known.get(fp);
      if (r && !b.#episodes.has(r.episode)) b.#put(r);
      b.#byFp.set(fp, r?.episode ?? null);
    }
    // A new episode's id is its first fingerprint, and so its ticket's key.
    for (const k of fingerprints) b.#byKey.set(k, null);
    for (const t of await stores.tickets.startOfBatch(tx, ids, fingerprints)) b.#cacheTicket(t);
    return b;
  }

  #put(r: AlarmRecord): void {
    this.#episodes.set(r.episode, r);
    const set = this.#ofUnit.get(r.unitId);
    if (set) set.add(r.episode);
    else this.#ofUnit.set(r.unitId, new Set([r.episode]));
    const k = pair(r.unitId, r.kind);
    const cur = this.#last.get(k);
    const curRec = cur === undefined ? undefined : this.#episodes.get(cur);
    if (!curRec || cur === r.episode || r.raisedAt >= curRec.raisedAt) this.#last.set(k, r.episode);
  }

  #cacheTicket(t: TicketRow): void {
    this.#tickets.set(t.id, t);
    this.#byKey.set(t.idempotency_key, t.id);
    const k = pair(t.unit_id, t.alarm_kind);
    const cur = this.#open.get(k);
    const curRow = cur === undefined ? undefined : this.#tickets.get(cur);
    if (t.state !== 'closed' && (!curRow || t.opened_at < curRow.opened_at)) this.#open.set(k, t.id);
  }

  #mine(unitId: string): void {
    if (!this.#units.has(unitId)) throw new Error(`unit ${unitId} is not in this batch`);
  }

  // Alarms

  async known(fp: string): Promise<AlarmRecord | undefined> {
    if (!this.#byFp.has(fp)) {
      const r = (await this.#s.alarms.byFingerprints(this.tx, [fp])).get(fp);
      if (r && !this.#episodes.has(r.episode)) this.#put(r);
      this.#byFp.set(fp, r?.episode ?? null);
    }
    const id = this.#byFp.get(fp);
    return id ? this.#episodes.get(id) : undefined;
  }

  lastOfKind(unitId: string, kind: string): AlarmRecord | undefined {
    this.#mine(unitId);
    const id = this.#last.get(pair(unitId, kind));
    return id === undefined ? undefined : this.#episodes.get(id);
  }

  openOfUnit(unitId: string): AlarmRecord[] {
    this.#mine(unitId);
    const out: AlarmRecord[] = [];
    for (const id of this.#ofUnit.get(unitId) ?? []) {
      const r = this.#episodes.get(id);
      if (r && r.state !== 'cleared') out.push(r);
    }
    return out;
  }

  save(r: AlarmRecord, fingerprint: string | null, district: string | null): void {
    this.#mine(r.unitId);
    if (!this.#episodes.has(r.episode)) this.#opened.add(r.episode);
    this.#put(r);
    if (!this.#dirty.has(r.episode)) this.#dirty.set(r.episode, district);
    if (fingerprint && !this.#byFp.get(fingerprint)) {
      this.#byFp.set(fingerprint, r.episode);
      // An episode's first fingerprint is its id: its alarm row stands for that occurrence.
      if (fingerprint !== r.episode) this.#newFps.push({ fingerprint, episode: r.episode });
    }
  }

  inhibit(episodes: readonly string[], by: string): void {
    for (const e of episodes) {
      const r = this.#episodes.get(e);
      if (!r) continue;
      this.#put({ ...r, inhibitedBy: by });
      if (!this.#dirty.has(e)) this.#dirty.set(e, null);
    }
  }

  // Tickets

  openTicket(unitId: string, kind: string): TicketRow | undefined {
    this.#mine(unitId);
    const id = this.#open.get(pair(unitId, kind));
    return id === undefined ? undefined : this.#tickets.get(id);
  }

  async ticketByKey(key: string): Promise<TicketRow | undefined> {
    if (!this.#byKey.has(key)) {
      const [t] = await this.#s.tickets.byKeys(this.tx, [key]);
      if (t) this.#cacheTicket(t);
      else this.#byKey.set(key, null);
    }
    const id = this.#byKey.get(key);
    return id ? this.#tickets.get(id) : undefined;
  }

  async ticket(id: string): Promise<TicketRow | undefined> {
    if (!this.#tickets.has(id)) {
      const t = await this.#s.tickets.get(this.tx, id);
      if (t) this.#cacheTicket(t);
    }
    return this.#tickets.get(id);
  }

  addTicket(t: TicketRow, opening: TicketEventRow, timer: TicketTimerRow): void {
    this.#mine(t.unit_id);
    this.#cacheTicket(t);
    this.#newTickets.add(t.id);
    this.#events.push(opening);
    this.#timers.push(timer);
  }

  patchTicket(id: string, patch: Partial<TicketRow>, event: TicketEventRow): TicketRow {
    const t = this.#tickets.get(id);
    if (!t) throw new Error(`ticket ${id} is not in this batch`);
    const next = { ...t, ...patch };
    this.#tickets.set(id, next);
    if (!this.#newTickets.has(id)) this.#patches.set(id, { ...this.#patches.get(id), ...patch });
    else if (patch.yellow_at !== undefined)
      // Opened in this batch: its first stage is still the one it was opened with.
      for (const timer of this.#timers) if (timer.ticket_id === id) timer.due_at = next.yellow_at;
    this.#events.push(event);
    return next;
  }

  /** A change for the flows, in the order the batch made them. */
  publish(e: OutboxEntry): void {
    this.#outbox.push(e);
  }

  /** What the batch writes, by id, for the live views once its transaction committed. */
  get changed(): { episodes: string[]; tickets: string[] } {
    return { episodes: [...this.#dirty.keys()], tickets: [...this.#newTickets, ...this.#patches.keys()] };
  }

  /**
   * Writes everything out. On PostgreSQL the inserts go as one statement (`JsonInserts`), then the
   * patches. The outbox rows go with the inserts when they are all of tickets this batch opened
   * (no other transaction can see those); else after the patches: a patched ticket's row lock,
   * taken before its outbox rows take their positions, orders two transactions' positions for it
   * as they commit.
   */
  async flush(): Promise<void> {
    const { alarms, tickets, outbox } = this.#s;
    const records = [...this.#dirty].map(([episode, district]) => ({
      record: this.#episodes.get(episode) as AlarmRecord,
      district,
      opened: this.#opened.has(episode),
    }));
    const inserts = new JsonInserts();
    await alarms.saveMany(this.tx, records, this.#newFps, inserts);
    await tickets.insertMany(
      this.tx,
      [...this.#newTickets].map((id) => this.#tickets.get(id) as TicketRow),
      inserts,
    );
    await tickets.events(this.tx, this.#events, inserts);
    await tickets.addTimers(this.tx, this.#timers, inserts);
    const ofOpened = this.#outbox.every((e) => this.#newTickets.has(e.ticket.id));
    if (ofOpened) await outbox.append(this.tx, this.#outbox, inserts);
    await inserts.execute(this.tx);
    for (const [id, patch] of this.#patches) {
      await tickets.patch(this.tx, id, patch);
      if (patch.deadline_at !== undefined) await tickets.retime(this.tx, this.#tickets.get(id) as TicketRow);
    }
    if (!ofOpened) await outbox.append(this.tx, this.#outbox);
  }
}
