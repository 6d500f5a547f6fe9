/**
 * Whether an MQTT topic filter matches a topic name ([MQTT-4.7.1]): `+` one level, `#` this
 * level and everything below. Topics starting with `$` are not matched by a filter that starts
 * with a wildcard ([MQTT-4.7.2-1]).
 */
export function filterMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
