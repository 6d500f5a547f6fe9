import type { UnitView } from '../src/domain/unit-state.ts';

export type StreamState = 'connecting' | 'live' | 'reconnecting';

/**
 * The fleet's live updates (Server-Sent Events): a snapshot of every unit, then one event per
 * change. EventSource cannot send headers, so the token rides as access_token; it cannot read a
 * status either, so the page checks the session when the stream fails (a revoked token).
 */
export function openStream(token: string | null, onUnit: (u: UnitView) => void, onState: (s: StreamState) => void): () => void {
  const events = new EventSource(token ? `/api/events?access_token=${encodeURIComponent(token)}` : '/api/events');
  onState('connecting');
  events.addEventListener('open', () => onState('live'));
  events.addEventListener('error', () => onState('reconnecting'));
  events.addEventListener('unit', (e) => onUnit(JSON.parse((e as MessageEvent<string>).data) as UnitView));
  return () => events.close();
}
