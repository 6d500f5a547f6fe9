import { type Alarm, type Evidence, type EvidenceEntry, evidenceHeads } from '@shouwang/protocol';
import type { EvidenceRecord, MediaRecord, MediaStore } from '../storage/media-store.ts';

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

  async takeAlarm(unitId: string, alarm: Alarm): Promise<void> {
    const head = alarm.evidence;
    if (alarm.state !== 'raised' || head === undefined) return;
    await this.#update(unitId, alarm.id, (e) => {
      e.raisedHead = head;
    });
  }

  async takeManifest(unitId: string, m: Evidence): Promise<void> {
    await this.#update(unitId, m.alarm, (e) => {
      e.entries = m.entries;
      e.head = m.head;
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

  #update(unitId: string, alarmId: string, change: (e: EvidenceRecord) => void): Promise<void> {
    const key = `${unitId}\n${alarmId}`;
    const run = async () => {
      const e = (await this.#store.getEvidence(unitId, alarmId)) ?? this.#empty(unitId, alarmId);
      change(e);
      await this.#store.putEvidence(await this.#judge(e));
    };
    const next = (this.#updating.get(key) ?? Promise.resolve()).catch(() => undefined).then(run);
    this.#updating.set(key, next);
    return next.finally(() => {
      if (this.#updating.get(key) === next) this.#updating.delete(key);
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
