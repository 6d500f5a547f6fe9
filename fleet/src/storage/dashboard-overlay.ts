import type { Severity } from '@shouwang/protocol';
import type { Kysely } from 'kysely';
import { type CellTickets, type UnitAlarms, worstLight, worstSeverity } from '../domain/dashboard-overlay.ts';
import type { Light } from '../domain/ticket-flow.ts';
import type { Database } from './schema.ts';

/**
 * Read-only queries for the dashboard's overlay over the alarm and ticket tables (written by the
 * alarm loop, src/storage/{alarm,ticket}-store.ts): a few rows per unit or cell, folded here.
 */
export async function standingAlarms(db: Kysely<Database>, now: number): Promise<Map<string, UnitAlarms>> {
  const rows = await db
    .selectFrom('alarms')
    .select(['unit_id', 'severity'])
    .where('state', 'in', ['active', 'acknowledged'])
    .where('inhibited_by', 'is', null)
    .where((eb) => eb.or([eb('shelved_until', 'is', null), eb('shelved_until', '<=', now)]))
    .execute();
  const out = new Map<string, UnitAlarms>();
  for (const r of rows) {
    const held = out.get(r.unit_id);
    const severity = r.severity as Severity;
    out.set(r.unit_id, held ? { count: held.count + 1, severity: worstSeverity(held.severity, severity) } : { count: 1, severity });
  }
  return out;
}

/** Open tickets per cell, by cell id (tickets outside every cell have no cell to colour). */
export async function openTicketsByCell(db: Kysely<Database>): Promise<CellTickets[]> {
  const rows = await db
    .selectFrom('tickets')
    .select(['cell', 'light'])
    .where('state', '!=', 'closed')
    .where('cell', 'is not', null)
    .execute();
  const out = new Map<string, CellTickets>();
  for (const r of rows) {
    const cell = r.cell as string;
    const light = r.light as Light;
    const held = out.get(cell);
    out.set(cell, held ? { cell, open: held.open + 1, light: worstLight(held.light, light) } : { cell, open: 1, light });
  }
  return [...out.values()].sort((a, b) => a.cell.localeCompare(b.cell));
}
