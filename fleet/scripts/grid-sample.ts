/**
 * Writes the shipped SYNTHETIC Harbin grid sample (fleet/src/grid/harbin-grid.sample.geojson) from
 * the districts the dashboard's map draws: `node fleet/scripts/grid-sample.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FeatureCollection, Polygon } from 'geojson';
import { synthesizeGrid } from '../src/grid/synthetic.ts';

export const SAMPLE_SIDE_DEG = 0.0125;

const map = JSON.parse(readFileSync(new URL('../web/harbin.geojson', import.meta.url), 'utf8')) as FeatureCollection;
const districts = map.features
  .filter((f) => f.properties?.level === 'district' && f.geometry.type === 'Polygon')
  .map((f) => {
    const name = String(f.properties?.name);
    return { id: name.split(' ')[0]?.toLowerCase() ?? name, name, polygon: f.geometry as Polygon };
  });
const grid = synthesizeGrid(districts, SAMPLE_SIDE_DEG);
const out = {
  ...grid,
  name: 'SYNTHETIC sample grid for Harbin — made-up streets, communities, cells, teams and departments; not the city’s grid',
};
writeFileSync(new URL('../src/grid/harbin-grid.sample.geojson', import.meta.url), `${JSON.stringify(out)}\n`);
console.log(`${grid.features.filter((f) => f.properties?.level === 'cell').length} cells written`);
