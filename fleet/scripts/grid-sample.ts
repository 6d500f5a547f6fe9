/**
 * Writes the shipped SYNTHETIC Harbin grid sample (fleet/src/grid/harbin-grid.sample.geojson) from
 * the synthetic district outlines (fleet/src/grid/harbin-districts.geojson):
 * `node fleet/scripts/grid-sample.ts`. The dashboard's map draws the grid the fleet loaded, so
 * this sample is what both the map and the tickets use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FeatureCollection, Polygon } from 'geojson';
import { synthesizeGrid } from '../src/grid/synthetic.ts';

export const SAMPLE_SIDE_DEG = 0.0125;

const map = JSON.parse(readFileSync(new URL('../src/grid/harbin-districts.geojson', import.meta.url), 'utf8')) as FeatureCollection;
const districts = map.features
  .filter((f) => f.properties?.level === 'district' && f.geometry.type === 'Polygon')
  .map((f) => {
    const name = String(f.properties?.name);
    const nameZh = String(f.properties?.name_zh ?? '');
    // "Daoli 道里": the departments and dispatchers named after it read in both languages.
    return { id: name.toLowerCase(), name: nameZh ? `${name} ${nameZh}` : name, nameZh, polygon: f.geometry as Polygon };
  });
const grid = synthesizeGrid(districts, SAMPLE_SIDE_DEG);
const out = {
  ...grid,
  name: 'SYNTHETIC sample grid for Harbin — made-up streets, communities, cells, teams and departments; not the city’s grid',
};
writeFileSync(new URL('../src/grid/harbin-grid.sample.geojson', import.meta.url), `${JSON.stringify(out)}\n`);
console.log(`${grid.features.filter((f) => f.properties?.level === 'cell').length} cells written`);
