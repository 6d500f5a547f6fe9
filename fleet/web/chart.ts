/**
 * Battery and charge over time as one small SVG: state of charge (0–100 %, left scale) and
 * harvest (solar + wind, W, scaled to its own peak), drawn as one string; labels come in the page's language.
 */
export interface PowerPoint {
  ts: number;
  soc: number;
  solarW: number;
  windW: number;
  loadW: number;
}

const W = 260;
const H = 64;

function path(points: readonly PowerPoint[], y: (p: PowerPoint) => number, t0: number, span: number): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${(((p.ts - t0) / span) * W).toFixed(1)},${y(p).toFixed(1)}`).join('');
}

export interface ChartLabels {
  empty: string;
  battery: string;
  harvest: string;
  load: string;
  /** '{w}' for the peak power the harvest and load lines are scaled to. */
  peak: string;
}

export function powerChart(points: readonly PowerPoint[], labels: ChartLabels): string {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || points.length < 2) return `<p class="dim chart-empty">${labels.empty}</p>`;
  const span = Math.max(1, last.ts - first.ts);
  const peak = Math.max(1, ...points.map((p) => p.solarW + p.windW), ...points.map((p) => p.loadW));
  const soc = path(points, (p) => H - (p.soc / 100) * H, first.ts, span);
  const harvest = path(points, (p) => H - ((p.solarW + p.windW) / peak) * H, first.ts, span);
  const load = path(points, (p) => H - (p.loadW / peak) * H, first.ts, span);
  const hours = (span / 3_600_000).toFixed(span < 36_000_000 ? 1 : 0);
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${labels.battery} · ${hours} h">
  <path class="harvest" d="${harvest}"/><path class="load" d="${load}"/><path class="soc" d="${soc}"/>
</svg><p class="legend"><i class="soc"></i>${labels.battery} % <i class="harvest"></i>${labels.harvest} <i class="load"></i>${labels.load} · ${labels.peak.replace('{w}', `${peak.toFixed(0)} W`)} · ${hours} h</p>`;
}
