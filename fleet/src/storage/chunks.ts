/**
 * Rows for multi-row statements, cut so one statement binds at most `PARAMS` values: SQLite
 * refuses more than 32,766 bound parameters per statement and PostgreSQL more than 65,535.
 */
const PARAMS = 16_000;

export function chunks<T extends object>(rows: readonly T[]): T[][] {
  const first = rows[0];
  if (!first) return [];
  const size = Math.max(1, Math.floor(PARAMS / Object.keys(first).length));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
