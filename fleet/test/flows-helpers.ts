/**
 * Outbox tests without a whole fleet: a database opened as a fleet instance opens it (migrated),
 * and ticket events appended in their own transaction as the alarm loop appends them.
 */
import type { TestContext } from 'node:test';
import type { TicketSnapshot } from '@shouwang/protocol';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { openDatabase } from '../src/storage/open.ts';
import { tempDir } from './helpers.ts';

/** One fleet instance's view of the database: its own connections (PostgreSQL) and outbox object. */
export async function instance(t: TestContext, url: string, dataDir?: string) {
  const opened = await openDatabase(url, dataDir ?? (await tempDir(t)), () => {});
  t.after(() => opened.db.destroy());
  return { ...opened, outbox: new FlowsOutbox(opened.db) };
}

export function ticket(id: string): TicketSnapshot {
  return {
    id,
    idempotencyKey: `hrb-001:motion:${id}`,
    state: 'dispatched',
    unitId: 'hrb-001',
    alarmKind: 'motion',
    category: 'public-security',
    severity: 'major',
    priority: 'high',
    grid: { cell: 'DL-0101', community: null, street: null, district: 'daoli', team: null },
    department: 'public-security',
    dispatcher: 'daoli-command',
    position: null,
    openedAt: 1_764_000_000_000,
    deadlineAt: 1_764_014_400_000,
    light: 'green',
    escalated: false,
    alarmCount: 1,
    evidence: { snapshots: [], clips: [] },
    updatedAt: 1_764_000_000_000,
  };
}

/** Appends one event per ticket id given, in that order, in one committed transaction. */
export async function append(i: Awaited<ReturnType<typeof instance>>, ticketIds: readonly string[], at: number): Promise<void> {
  await i.db.transaction().execute((tx) =>
    i.outbox.append(
      tx,
      ticketIds.map((id) => ({ ticket: ticket(id), type: 'ticket.changed' as const, action: 'sign', reason: null, at })),
    ),
  );
}
