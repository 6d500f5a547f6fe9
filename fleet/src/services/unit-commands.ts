import { randomUUID } from 'node:crypto';
import {
  type CommandArgs,
  type CommandData,
  type CommandName,
  type CommandResponse,
  type CommissionItem,
  commissionFailed,
} from '@shouwang/protocol';
import type { CommissioningSummary } from '../domain/unit-state.ts';
import type { CommissioningRow } from '../storage/schema.ts';
import type { FleetStore } from '../storage/store.ts';
import type { CommandClient } from './commands.ts';

/**
 * Commands to units on behalf of API callers, so a technician's phone needs a fleet token, not
 * the MQTT service secret. A `commission` answer is also recorded: the checklist a technician ran
 * on site stays with the unit, pass or fail, with who asked.
 */
export interface CommissioningRecord {
  id: string;
  unitId: string;
  /** When the unit ran the checklist, ms (its clock). */
  ts: number;
  requestedAt: number;
  requestedBy: string;
  passed: boolean;
  items: CommissionItem[];
}

/** What the unit's card and live view carry of a run. */
export function commissioningSummary(r: CommissioningRecord): CommissioningSummary {
  const judged = r.items.flatMap((i) => (i.judgedAt === undefined ? [] : [{ check: i.check, pass: i.pass, at: i.judgedAt }]));
  return {
    at: r.requestedAt,
    passed: r.passed,
    failed: r.items.filter(commissionFailed).map((i) => i.check),
    pending: r.items.filter((i) => i.pending).map((i) => i.check),
    ...(judged.length > 0 ? { judged } : {}),
  };
}

/**
 * The run with a check it left pending replaced by the unit's later verdict on it; undefined when
 * the run has no such check pending (a newer run by hand judged it, or the same report came twice).
 */
export function withJudged(r: CommissioningRecord, item: CommissionItem): CommissioningRecord | undefined {
  if (item.judgedAt === undefined || !r.items.some((i) => i.check === item.check && i.pending === true)) return undefined;
  const items = r.items.map((i) => (i.check === item.check ? item : i));
  return { ...r, items, passed: !items.some(commissionFailed) };
}

/** Long enough for a still from the camera and a test upload over a slow link. */
const COMMISSION_TIMEOUT_MS = 90_000;

export class UnitCommands {
  readonly #commands: CommandClient;
  readonly #store: FleetStore;
  readonly #now: () => number;

  readonly #onRecord: (r: CommissioningRecord) => void;

  constructor(commands: CommandClient, store: FleetStore, onRecord: (r: CommissioningRecord) => void, now: () => number = Date.now) {
    this.#commands = commands;
    this.#store = store;
    this.#onRecord = onRecord;
    this.#now = now;
  }

  /** Replays each unit's newest run to `onRecord` (start-up). */
  async restore(): Promise<void> {
    for (const row of await this.#store.latestCommissioning()) this.#onRecord(fromRow(row));
  }

  async send<C extends CommandName>(
    unitId: string,
    command: C,
    args: CommandArgs<C>,
    by: string,
    timeoutMs?: number,
  ): Promise<{ response: CommandResponse<C>; record?: CommissioningRecord }> {
    const requestedAt = this.#now();
    const response = await this.#commands.send(unitId, command, args, {
      timeoutMs: timeoutMs ?? (command === 'commission' ? COMMISSION_TIMEOUT_MS : 30_000),
    });
    if (command !== 'commission' || response.status !== 'ok') return { response };
    const data = response.data as CommandData<'commission'>;
    const record: CommissioningRecord = {
      id: randomUUID(),
      unitId,
      ts: data.ts,
      requestedAt,
      requestedBy: by,
      passed: data.items.length > 0 && !data.items.some(commissionFailed),
      items: data.items,
    };
    await this.#store.insertCommissioning(toRow(record));
    this.#onRecord(record);
    return { response, record };
  }

  /**
   * A check the unit judged by itself after the run left it pending (the `commission` event's
   * item): the unit's latest run takes the verdict. Resolves with the updated run, or undefined
   * when there is nothing pending to judge.
   */
  async judged(unitId: string, item: CommissionItem): Promise<CommissioningRecord | undefined> {
    const [row] = await this.#store.commissioningHistory(unitId, 1);
    const record = row && withJudged(fromRow(row), item);
    if (!record) return undefined;
    await this.#store.updateCommissioning(record.id, record.passed ? 1 : 0, JSON.stringify(record.items));
    this.#onRecord(record);
    return record;
  }

  async commissioning(unitId: string, limit = 20): Promise<CommissioningRecord[]> {
    return (await this.#store.commissioningHistory(unitId, limit)).map(fromRow);
  }
}

function toRow(r: CommissioningRecord): CommissioningRow {
  return {
    id: r.id,
    unit_id: r.unitId,
    ts: r.ts,
    requested_at: r.requestedAt,
    requested_by: r.requestedBy,
    passed: r.passed ? 1 : 0,
    items: JSON.stringify(r.items),
  };
}

function fromRow(r: CommissioningRow): CommissioningRecord {
  return {
    id: r.id,
    unitId: r.unit_id,
    ts: r.ts,
    requestedAt: r.requested_at,
    requestedBy: r.requested_by,
    passed: r.passed === 1,
    items: JSON.parse(r.items) as CommissionItem[],
  };
}
