import { esc } from './html.ts';

/**
 * Grouped horizontal bars as plain markup (no chart library: a few dozen bars need none): one row
 * per group, one bar per series, each bar's width its share of `max`, its value written beside it.
 */
export interface Series {
  /** CSS class of the bar and its legend swatch. */
  cls: string;
  label: string;
}

export interface BarGroup {
  label: string;
  /** One value per series, in the series' order; null draws an empty, labelled slot. */
  values: readonly (number | null)[];
}

export function barChart(
  title: string,
  series: readonly Series[],
  groups: readonly BarGroup[],
  o: { max: number; format: (v: number) => string; none: string },
): string {
  const legend = series.map((s) => `<span><i class="${esc(s.cls)}"></i>${esc(s.label)}</span>`).join('');
  const rows = groups
    .map((g) => {
      const bars = series
        .map((s, i) => {
          const v = g.values[i] ?? null;
          const w = v === null || o.max <= 0 ? 0 : Math.min(100, (v / o.max) * 100);
          return `<div class="kbar-line" title="${esc(s.label)}"><span class="kbar-track"><span class="kbar ${esc(s.cls)}" style="width:${w.toFixed(1)}%"></span></span><span class="kbar-value">${esc(
            v === null ? o.none : o.format(v),
          )}</span></div>`;
        })
        .join('');
      return `<div class="kbar-group"><span class="kbar-label">${esc(g.label)}</span><div class="kbar-set">${bars}</div></div>`;
    })
    .join('');
  return `<figure class="kbar-chart"><figcaption>${esc(title)}</figcaption><p class="legend">${legend}</p>${rows}</figure>`;
}
