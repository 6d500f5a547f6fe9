/**
 * The grid model: the shipped SYNTHETIC Harbin sample loads; the indexed lookup agrees with a scan
 * of every cell; a position in no cell goes to the district's dispatcher, outside every district to
 * the city's; a broken file is refused with its problems listed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FeatureCollection } from 'geojson';
import { SAMPLE_GRID } from '../src/alarms/loop.ts';
import { Grid, type GridError } from '../src/grid/grid.ts';

const sample = JSON.parse(readFileSync(SAMPLE_GRID, 'utf8')) as FeatureCollection & { name: string };
const grid = new Grid(sample, 'Harbin city command centre');

test('the sample is labelled synthetic; the index finds the same cell as a scan of all of them', () => {
  assert.match(sample.name, /SYNTHETIC/);
  assert.ok(grid.cellCount > 500);
  let matched = 0;
  for (let i = 0; i < 2000; i++) {
    const lat = 45.45 + (((i * 7919) % 1000) / 1000) * 0.6;
    const lon = 126.4 + (((i * 104_729) % 1000) / 1000) * 0.7;
    const cell = grid.cellAt(lat, lon);
    assert.equal(cell, grid.cellAtByScan(lat, lon));
    if (cell) matched++;
  }
  assert.ok(matched > 200 && matched < 2000, `some points in cells, some outside (${matched})`);
});

test('a route names the cell, its parents, the grid team and the department for the category', () => {
  const r = grid.route({ lat: 45.75, lon: 126.55 }, 'fire-safety');
  assert.equal(r.matched, true);
  assert.equal(r.district, 'daoli');
  assert.match(r.cell ?? '', /^daoli-g/);
  assert.equal(r.team, `${r.cell} grid team`);
  assert.equal(r.department, 'Daoli 道里 fire rescue brigade');
  assert.deepEqual(grid.parentsOf(r.cell as string), { community: r.community, street: r.street, district: 'daoli' });
  assert.equal(grid.route(null, 'fire-safety').dispatcher, 'Harbin city command centre');
  assert.deepEqual(grid.route({ lat: 30, lon: 120 }, 'utilities'), {
    matched: false,
    cell: null,
    community: null,
    street: null,
    district: null,
    team: null,
    department: null,
    dispatcher: 'Harbin city command centre',
  });
});

test("a position in its district but in no cell goes to that district's dispatcher", () => {
  const districtOnly: FeatureCollection = {
    type: 'FeatureCollection',
    features: sample.features.filter((f) => f.properties?.level !== 'cell'),
  };
  const r = new Grid(districtOnly, 'city').route({ lat: 45.75, lon: 126.55 }, 'public-security');
  assert.deepEqual([r.matched, r.district, r.department, r.dispatcher], [false, 'daoli', null, 'Daoli 道里 district command centre']);
});

test('a broken grid file is refused with every problem', () => {
  const square = {
    type: 'Polygon' as const,
    coordinates: [
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 0],
      ],
    ],
  };
  const bad: FeatureCollection = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { level: 'district', id: 'd', departments: { plumbing: 'x' } }, geometry: square },
      { type: 'Feature', properties: { level: 'cell', id: 'c', parent: 'd' }, geometry: square },
      { type: 'Feature', properties: { level: 'county', id: 'k' }, geometry: square },
    ],
  };
  assert.throws(
    () => new Grid(bad, 'city'),
    (e: GridError) => {
      assert.deepEqual(e.problems, [
        'features[0] (d): departments.plumbing is not a category (public-security, fire-safety, city-management, utilities, unit-maintenance)',
        'features[2] (k): level must be one of district, street, community, cell',
        'c: parent must be a community (got d)',
      ]);
      return true;
    },
  );
});
