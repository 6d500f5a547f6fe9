/** Text made safe to place in markup the page builds as a string. */
export function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
