import { type Alarm, type Evidence, type EvidenceEntry, evidenceHeads } from '@shouwang/protocol';
import { type EvidenceRecord, evidenceKey, type MediaRecord, type MediaStore } from '../storage/media-store.ts';

/**
 * An alarm's evidence checked against its chain (protocol/src/messages/evidence.ts): the head the
 * alarm carried when raised, the manifest that followed, and the files as they arrive. The chain
 * is `ok` when the manifest's entries recompute to its head and pass through the alarm's head
 * (the parts the alarm vouched for were not changed afterwards); `broken` otherwise.
 */
export interface EvidencePart extends EvidenceEntry {
  /** The file arrived and matched the entry's size and SHA-256 (inline parts: always). */
  arrived: boolean;
}

export interface EvidenceStatus {
  unitId: string;
  alarmId: string;
  chain: EvidenceRecord['chain'];
  raisedHead: string | null;
  head: string | null;
  parts: EvidencePart[];
}

export class EvidenceBook {
  readonly #store: MediaStore;
  readonly #now: () => number;
  /**
   * The last update of each alarm's record still running: the alarm's head (from the alarm intake)
   * and its manifest (from the media session) come on two sessions, and each reads and rewrites
   * the record, so one waits for the other rather than overwriting it.
   */
  readonly #updating = new Map<string, Promise<void>>();

  constructor(store: MediaStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * The heads the raised alarms of one intake batch carried, once it committed: one read and one
   * write for the whole batch, not a round trip per alarm (a storm's thousand alarms would queue
   * two thousand of them behind its PUBACKs, on the cores deciding the next batches).
   */
  async takeAlarms(alarms: readonly { unitId: string; alarm: Alarm }[]): Promise<void> {
    const heads = new Map<string, { unitId: string; alarmId: string; head: string }>();
    for (const { unitId, alarm } of alarms)
      if (alarm.state === 'raised' && alarm.evidence !== undefined)
        heads.set(evidenceKey(unitId, alarm.id), { unitId, alarmId: alarm.id, head: alarm.evidence });
    if (heads.size === 0) return;
    await this.#update([...heads.keys()], async () => {
      const found = await this.#store.evidenceFor([...heads.values()]);
      const judged = [...heads].map(([k, h]) => {
        const e = found.get(k) ?? this.#empty(h.unitId, h.alarmId);
        e.raisedHead = h.head;
        return this.#judge(e);
      });
      await this.#store.putEvidence(await Promise.all(judged));
    });
  }

  async takeManifest(unitId: string, m: Evidence): Promise<void> {
    await this.#update([evidenceKey(unitId, m.alarm)], async () => {
      const e = (await this.#store.getEvidence(unitId, m.alarm)) ?? this.#empty(unitId, m.alarm);
      e.entries = m.entries;
      e.head = m.head;
      await this.#store.putEvidence([await this.#judge(e)]);
    });
  }

  async status(unitId: string, alarmId: string): Promise<EvidenceStatus | undefined> {
    const e = await this.#store.getEvidence(unitId, alarmId);
    if (!e) return undefined;
    const media = new Map<string, MediaRecord>();
    for (const r of await this.#store.list(unitId, { alarmId })) media.set(r.recording, r);
    const parts = await Promise.all(
      (e.entries ?? []).map(async (entry) => {
        // Inline parts are all there; a media part without a recording (a clip a restart cut before it held anything) never arrives.
        if (entry.recording === undefined) return { ...entry, arrived: entry.part === 'readings' || entry.part === 'position' };
        const m = media.get(entry.recording) ?? (await this.#store.get(unitId, entry.recording));
        return { ...entry, arrived: m?.state === 'complete' && m.sha256 === entry.sha256 && m.size === entry.bytes };
      }),
    );
    return { unitId, alarmId, chain: e.chain, raisedHead: e.raisedHead, head: e.head, parts };
  }

  /** Runs `run` once the updates of these records already running are done; later ones wait for it. */
  #update(keys: readonly string[], run: () => Promise<void>): Promise<void> {
    const before = Promise.all(keys.map((k) => this.#updating.get(k)?.catch(() => undefined)));
    const next = before.then(run);
    for (const k of keys) this.#updating.set(k, next);
    return next.finally(() => {
      for (const k of keys) if (this.#updating.get(k) === next) this.#updating.delete(k);
    });
  }

  #empty(unitId: string, alarmId: string): EvidenceRecord {
    return { unitId, alarmId, raisedHead: null, head: null, entries: null, chain: 'pending', updatedAt: this.#now() };
  }

  async #judge(e: EvidenceRecord): Promise<EvidenceRecord> {
    e.updatedAt = this.#now();
    if (!e.entries || !e.head) return { ...e, chain: 'pending' };
    const heads = await evidenceHeads(e.unitId, e.alarmId, e.entries);
    const ok = heads.at(-1) === e.head && (e.raisedHead === null || heads.includes(e.raisedHead));
    return { ...e, chain: ok ? 'ok' : 'broken' };
  }
}
