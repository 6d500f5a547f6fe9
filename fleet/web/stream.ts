import type { CellTickets, DashboardUnit } from '../src/domain/dashboard-overlay.ts';
import type { AlarmPush, FloodPush, TicketPush } from './loop-model.ts';
import type { FleetClock } from './model.ts';

export type StreamState = 'connecting' | 'live' | 'reconnecting';

/** The alarm loop's views: the rows the fleet committed, and the stream's state (on each `live` they ask in full once). */
export interface LoopPush {
  alarms(e: AlarmPush): void;
  flood(e: FloodPush): void;
  tickets(e: TicketPush): void;
  clock(c: FleetClock): void;
  state(s: StreamState): void;
}

export interface StreamHandlers {
  unit(u: DashboardUnit): void;
  cells(c: CellTickets[]): void;
  clock(c: FleetClock): void;
  state(s: StreamState): void;
  loop: LoopPush;
}

/**
 * The dashboard's live updates (Server-Sent Events, /api/dashboard/events): the fleet's clock and
 * the open tickets per cell, a snapshot of every unit with its standing alarms, then one event per
 * change; and the alarm loop's changed episodes, flood state and tickets for its views. EventSource cannot send headers, so the token rides as access_token; it cannot read a
 * status either, so the page checks the session when the stream fails (a revoked token).
 */
export function openStream(token: string | null, on: StreamHandlers): () => void {
  const url = '/api/dashboard/events';
  const events = new EventSource(token ? `${url}?access_token=${encodeURIComponent(token)}` : url);
  const data = <T>(e: Event) => JSON.parse((e as MessageEvent<string>).data) as T;
  const state = (s: StreamState) => {
    on.state(s);
    on.loop.state(s);
  };
  state('connecting');
  events.addEventListener('open', () => state('live'));
  events.addEventListener('error', () => state('reconnecting'));
  events.addEventListener('unit', (e) => on.unit(data(e)));
  events.addEventListener('cells', (e) => on.cells(data(e)));
  events.addEventListener('clock', (e) => {
    on.clock(data(e));
    on.loop.clock(data(e));
  });
  events.addEventListener('alarms', (e) => on.loop.alarms(data(e)));
  events.addEventListener('flood', (e) => on.loop.flood(data(e)));
  events.addEventListener('tickets', (e) => on.loop.tickets(data(e)));
  return () => events.close();
}
