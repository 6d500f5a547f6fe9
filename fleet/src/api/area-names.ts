import type { Grid } from '../grid/grid.ts';

/**
 * The names of the grid areas an answer mentions, so a reader sees "Daoli 道里" and "Grid 008-021"
 * where the rows carry ids (the ids stay: filters and links use them).
 */
export function areaNames(grid: Grid, ids: Iterable<string | null>): Record<string, string> {
  const names: Record<string, string> = {};
  for (const id of ids) {
    if (id === null || id in names) continue;
    const name = grid.nameOf(id);
    if (name !== null) names[id] = name;
  }
  return names;
}
