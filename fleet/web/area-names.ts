/**
 * The grid areas' names the loop's answers carry beside their ids (`names`), kept for the page's
 * life: rows, paths and KPI groups show "Daoli 道里" where the data says `daoli`; an area the grid
 * names only by its id shows the id.
 */
const known = new Map<string, string>();

export function learnNames(names: Readonly<Record<string, string>> | undefined): void {
  for (const [id, name] of Object.entries(names ?? {})) known.set(id, name);
}

export function areaName(id: string): string {
  return known.get(id) ?? id;
}
