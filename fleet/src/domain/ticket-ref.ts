/**
 * A ticket id as a person reads it off a list: a UUID's first group, as the dashboard's queue and
 * the CLI's tables show it. The CLI takes any start of an id back (and names the candidates when
 * one is ambiguous), so what a list shows is always something one can type.
 */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}
