import { isUnitId, type ParsedTopic, PREFIX, type Result, SYS_PREFIX, unitAcl } from '@shouwang/protocol';

/**
 * Who is connected and what they may do. Units are confined to their own subtree by the
 * protocol's ACL; services (fleet, flows) watch every unit and send requests, and may read
 * the broker's $SYS tree but never write it.
 */
export type Principal = { kind: 'unit'; unitId: string } | { kind: 'service'; name: string };

/**
 * `topic` is the publish's topic through the protocol's parser, once per message. Whatever the
 * parser refuses — `$` topics included, which are the server's ([MQTT-4.7.2-1]) — nobody publishes.
 */
export function mayPublish(p: Principal, topic: Result<ParsedTopic>): boolean {
  if (!topic.ok) return false;
  return p.kind === 'unit' ? unitAcl.mayPublish(p.unitId, topic.value) : topic.value.type === 'request';
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
