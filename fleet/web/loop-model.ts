import type { Severity, TicketState } from '@shouwang/protocol';
import type { AlarmRecord } from '../src/domain/alarm-engine.ts';
import type { Kpis } from '../src/domain/kpi.ts';

/**
 * The alarm loop's API answers as the page reads them. Episodes and KPIs have domain types the
 * page can import; a ticket's view is built in the route module (which imports the server), so
 * its shape is declared here, as far as the page reads it.
 */
export type AlarmView = AlarmRecord & { district: string | null; stale: boolean; shelved: boolean };

/** Names of the grid areas an answer mentions, by id (`area-names.ts`). */
export type AreaNames = Record<string, string>;

export interface AlarmList {
  now: number;
  alarms: AlarmView[];
  names: AreaNames;
}

/** What the stream pushes (api/loop-feed.ts): the rows the alarm loop changed, as the list routes answer them. */
export type AlarmPush = AlarmList;

export interface FloodPush {
  districts: FloodDistrict[];
  names: AreaNames;
}

export interface TicketPush {
  now: number;
  tickets: TicketView[];
  names: AreaNames;
}

export interface FloodDistrict {
  district: string;
  inFlood: boolean;
  alarms: number;
  floodShare: number;
  priorityMix: Record<string, number>;
}

export interface TicketView {
  id: string;
  idempotencyKey: string;
  state: TicketState;
  unitId: string;
  alarmKind: string;
  category: string;
  severity: Severity;
  priority: string;
  grid: { cell: string | null; community: string | null; street: string | null; district: string | null; team: string | null };
  department: string | null;
  dispatcher: string;
  openedAt: number;
  deadlineAt: number;
  yellowAt: number;
  escalateAt: number;
  /** The light last painted by the fleet's timers (what the queue's light filter matches). */
  light: 'green' | 'yellow' | 'red';
  escalated: boolean;
  rework: number;
  alarmCount: number;
  evidence: Evidence;
  updatedAt: number;
}

export interface Evidence {
  position: { lat: number; lon: number } | null;
  readings: Record<string, unknown>;
  alarm?: { ts: number; receivedAt: number; severity: string; value: number | null; message: string | null; late: boolean };
  snapshots: string[];
  clips: string[];
}

export interface TimelineEntry {
  at: number;
  action: string;
  from: TicketState | null;
  to: TicketState | null;
  actor: string;
  reason: string | null;
  detail: unknown;
}

export interface KpiAnswer {
  from: number;
  to: number;
  level: string;
  kpis: Kpis[];
  names: AreaNames;
}

/** Traffic light of a ticket at the fleet's `now`: yellow from its warning time, red (overdue) from its deadline. */
export type Light = 'green' | 'yellow' | 'red' | 'closed';

export function lightAt(t: Pick<TicketView, 'state' | 'yellowAt' | 'deadlineAt'>, now: number): Light {
  if (t.state === 'closed') return 'closed';
  if (now >= t.deadlineAt) return 'red';
  return now >= t.yellowAt ? 'yellow' : 'green';
}
