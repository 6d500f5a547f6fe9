import type { CellTickets, DashboardUnit } from '../src/domain/dashboard-overlay.ts';
import type { FleetClock } from './model.ts';

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface StreamHandlers {
  unit(u: DashboardUnit): void;
  cells(c: CellTickets[]): void;
  clock(c: FleetClock): void;
  state(s: StreamState): void;
}

/**
 * The dashboard's live updates (Server-Sent Events, /api/dashboard/events): the fleet's clock and
 * the open tickets per cell, a snapshot of every unit with its standing alarms, then one event per
 * change. EventSource cannot send headers, so the token rides as access_token; it cannot read a
 * status either, so the page checks the session when the stream fails (a revoked token).
 */
export function openStream(token: string | null, on: StreamHandlers): () => void {
  const url = '/api/dashboard/events';
  const events = new EventSource(token ? `${url}?access_token=${encodeURIComponent(token)}` : url);
  const data = <T>(e: Event) => JSON.parse((e as MessageEvent<string>).data) as T;
  on.state('connecting');
  events.addEventListener('open', () => on.state('live'));
  events.addEventListener('error', () => on.state('reconnecting'));
  events.addEventListener('unit', (e) => on.unit(data(e)));
  events.addEventListener('cells', (e) => on.cells(data(e)));
  events.addEventListener('clock', (e) => on.clock(data(e)));
  return () => events.close();
}
