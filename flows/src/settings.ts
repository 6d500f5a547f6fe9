/**
 * A number from a node's settings, clamped to [min, max]; missing, empty (an unset `${ENV}` in a
 * flow) or not a number gives the default.
 */
export function num(v: string | number | undefined, dflt: number, min: number, max: number): number {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? dflt : Math.min(max, Math.max(min, n));
}
