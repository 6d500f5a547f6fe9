import type { Severity, TicketSnapshot, TicketState } from '@shouwang/protocol';
import type { TicketRow } from '../storage/schema.ts';

/** A ticket row as the flows contract carries it: what an outside work order needs, no readings. */
export function ticketSnapshot(t: TicketRow): TicketSnapshot {
  // The parts of the ticket's evidence (tickets/ticket-service.ts) an outside work order carries.
  const e = JSON.parse(t.evidence) as Pick<TicketSnapshot, 'position'> & TicketSnapshot['evidence'];
  return {
    id: t.id,
    idempotencyKey: t.idempotency_key,
    state: t.state as TicketState,
    unitId: t.unit_id,
    alarmKind: t.alarm_kind,
    category: t.category,
    severity: t.severity as Severity,
    priority: t.priority,
    grid: { cell: t.cell, community: t.community, street: t.street, district: t.district, team: t.team },
    department: t.department,
    dispatcher: t.dispatcher,
    position: e.position,
    openedAt: t.opened_at,
    deadlineAt: t.deadline_at,
    light: t.light as TicketSnapshot['light'],
    escalated: t.escalated === 1,
    alarmCount: t.alarm_count,
    evidence: { snapshots: e.snapshots, clips: e.clips },
    updatedAt: t.updated_at,
  };
}
