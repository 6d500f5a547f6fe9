import { isUnitId, PREFIX, parseTopic, SYS_PREFIX, unitAcl } from '@shouwang/protocol';

/**
 * Who is connected and what they may do. Units are confined to their own subtree by the
 * protocol's ACL; services (fleet, flows) watch every unit and send requests, and may read
 * the broker's $SYS tree but never write it.
 */
export type Principal = { kind: 'unit'; unitId: string } | { kind: 'service'; name: string };

export function mayPublish(p: Principal, topic: string): boolean {
  // [MQTT-4.7.2-1]: `$` topics are the server's; no client writes them.
  if (topic.startsWith('$')) return false;
  if (p.kind === 'unit') return unitAcl.mayPublish(p.unitId, topic);
  const t = parseTopic(topic);
  return t.ok && t.value.type === 'request';
}

export function maySubscribe(p: Principal, filter: string): boolean {
  if (p.kind === 'unit') return unitAcl.maySubscribe(p.unitId, filter);
  return filter.startsWith(`${PREFIX}/`) || filter.startsWith(SYS_PREFIX);
}

export function principalFor(username: string, isService: boolean): Principal | undefined {
  if (isService) return { kind: 'service', name: username };
  return isUnitId(username) ? { kind: 'unit', unitId: username } : undefined;
}

export function principalName(p: Principal): string {
  return p.kind === 'unit' ? p.unitId : p.name;
}
