/**
 * The alarm loop's hash routes: #/alarms (the console), #/tickets?<filter> (the queue, its filter
 * in the address), #/ticket/<id>, #/kpis?days=&level=.
 */
export type LoopRoute =
  | { view: 'alarms' }
  | { view: 'tickets'; query: URLSearchParams }
  | { view: 'ticket'; id: string }
  | { view: 'kpis'; query: URLSearchParams };

export const LOOP_VIEWS: ReadonlySet<string> = new Set(['alarms', 'tickets', 'ticket', 'kpis']);

export function parseLoopRoute(hash: string): LoopRoute | null {
  const [path = '', search = ''] = hash.split('?', 2);
  if (path === '#/alarms') return { view: 'alarms' };
  if (path === '#/tickets') return { view: 'tickets', query: new URLSearchParams(search) };
  if (path === '#/kpis') return { view: 'kpis', query: new URLSearchParams(search) };
  const m = /^#\/ticket\/([^/]+)$/.exec(path);
  return m?.[1] ? { view: 'ticket', id: decodeURIComponent(m[1]) } : null;
}
