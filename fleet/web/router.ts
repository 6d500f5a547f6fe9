import { type OtaRoute, parseOtaRoute } from './campaigns.ts';

/**
 * Hash routes, the seam further views slot into: #/ (map and units), #/unit/<id>, #/claim.
 * Works from a file of bookmarks and with no server-side routing.
 */
export type Route = { view: 'list' } | { view: 'unit'; id: string } | { view: 'claim' } | OtaRoute;

export function parseRoute(hash: string): Route {
  const m = /^#\/unit\/([^/]+)$/.exec(hash);
  if (m?.[1]) return { view: 'unit', id: decodeURIComponent(m[1]) };
  if (hash === '#/claim') return { view: 'claim' };
  const ota = parseOtaRoute(hash);
  if (ota) return ota;
  return { view: 'list' };
}

export function route(show: (r: Route) => void): void {
  window.addEventListener('hashchange', () => show(parseRoute(location.hash)));
  show(parseRoute(location.hash));
}
