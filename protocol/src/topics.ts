import { ErrorCode, fail, type Result } from './errors.ts';
import { COMMAND_NAMES, type CommandName } from './messages/command.ts';

/**
 * The topic namespace. Every topic string in the system is built and parsed here.
 *
 *   sw/v1/<unitId>/<kind>            unit → cloud (kinds in UPLINK_KINDS)
 *   sw/v1/<unitId>/chunk             unit → cloud, binary media chunks on the bulk lane (messages/media.ts)
 *   sw/v1/<unitId>/req/<command>     cloud → unit
 *   sw/v1/<unitId>/res/<command>     unit → cloud, answers a req with the same correlation id
 *
 * MQTT 3.1.1 has no content-type property, so the encoding travels in the payload's first byte
 * (see codec.ts), and the version travels in the prefix.
 */
export const PREFIX = 'sw/v1';
/** Topics under this prefix are the broker's own ([MQTT-4.7.2-1]); units may never touch them. */
export const SYS_PREFIX = '$SYS/';
export const MAX_TOPIC_LENGTH = 128;
export const MAX_TOPIC_LEVELS = 5;

export const UPLINK_KINDS = [
  'presence',
  'power',
  'location',
  'link',
  'telemetry',
  'alarm',
  'event',
  'ota',
  'video',
  'digest',
  'evidence',
] as const;
export type UplinkKind = (typeof UPLINK_KINDS)[number];

const UNIT_ID = /^[a-z0-9][a-z0-9-]{1,31}$/;

export function isUnitId(id: string): boolean {
  return UNIT_ID.test(id);
}

function unitRoot(unitId: string): string {
  if (!isUnitId(unitId)) throw new TypeError(`invalid unit id: ${JSON.stringify(unitId)}`);
  return `${PREFIX}/${unitId}`;
}

export const topics = {
  uplink: (unitId: string, kind: UplinkKind) => `${unitRoot(unitId)}/${kind}`,
  request: (unitId: string, command: CommandName) => `${unitRoot(unitId)}/req/${command}`,
  response: (unitId: string, command: CommandName) => `${unitRoot(unitId)}/res/${command}`,
  /** Media chunks: not a reading, so not an uplink kind; nothing that reads uplinks sees them. */
  chunk: (unitId: string) => `${unitRoot(unitId)}/${CHUNK_LEAF}`,
};
const CHUNK_LEAF = 'chunk';

/** Subscription filters for services (fleet, flows) that watch every unit. */
export const filters = {
  allUplink: (kind: UplinkKind) => `${PREFIX}/+/${kind}`,
  allResponses: () => `${PREFIX}/+/res/+`,
  unitRequests: (unitId: string) => `${unitRoot(unitId)}/req/+`,
  allChunks: () => `${PREFIX}/+/${CHUNK_LEAF}`,
  everything: () => `${PREFIX}/#`,
};

export type ParsedTopic =
  | { unitId: string; type: 'uplink'; kind: UplinkKind }
  | { unitId: string; type: 'chunk' }
  | { unitId: string; type: 'request' | 'response'; command: CommandName };

const UPLINK_SET: ReadonlySet<string> = new Set(UPLINK_KINDS);
const COMMAND_SET: ReadonlySet<string> = new Set(COMMAND_NAMES);

export function parseTopic(topic: string): Result<ParsedTopic> {
  if (topic.length > MAX_TOPIC_LENGTH) return fail(ErrorCode.TooLarge, `topic longer than ${MAX_TOPIC_LENGTH}`);
  const parts = topic.split('/');
  if (parts.length > MAX_TOPIC_LEVELS) return fail(ErrorCode.Topic, `topic deeper than ${MAX_TOPIC_LEVELS} levels`);
  const [ns, version, unitId, leaf, command] = parts;
  if (`${ns}/${version}` !== PREFIX) return fail(ErrorCode.Topic, `topic outside ${PREFIX}/`);
  if (unitId === undefined || !isUnitId(unitId)) return fail(ErrorCode.Topic, 'bad unit id in topic');
  if (parts.length === 4 && leaf !== undefined && UPLINK_SET.has(leaf)) {
    return { ok: true, value: { unitId, type: 'uplink', kind: leaf as UplinkKind } };
  }
  if (parts.length === 4 && leaf === CHUNK_LEAF) return { ok: true, value: { unitId, type: 'chunk' } };
  if (parts.length === 5 && (leaf === 'req' || leaf === 'res') && command !== undefined && COMMAND_SET.has(command)) {
    return { ok: true, value: { unitId, type: leaf === 'req' ? 'request' : 'response', command: command as CommandName } };
  }
  return fail(ErrorCode.Topic, `unknown topic leaf: ${parts.slice(3).join('/')}`);
}

/**
 * The kind a topic carries — its uplink kind, or request / response — read from its fourth level
 * alone, for per-message paths that only see topics `parseTopic` has already accepted (the
 * gateway labels every delivery with it). Anything else may come back undefined or wrong.
 */
export function kindOfAcceptedTopic(topic: string): UplinkKind | 'request' | 'response' | 'chunk' | undefined {
  const leaf = topic.split('/', 4)[3];
  if (leaf === 'req') return 'request';
  if (leaf === 'res') return 'response';
  if (leaf === CHUNK_LEAF) return 'chunk';
  return leaf !== undefined && UPLINK_SET.has(leaf) ? (leaf as UplinkKind) : undefined;
}

/**
 * What a unit may do, derived from the namespace: publish only in its own subtree (uplink
 * kinds and responses), subscribe only to its own requests. No wildcards beyond `req/+`.
 */
export const unitAcl = {
  mayPublish(unitId: string, topic: string | ParsedTopic): boolean {
    const t = typeof topic === 'string' ? parseTopic(topic) : { ok: true as const, value: topic };
    return t.ok && t.value.unitId === unitId && t.value.type !== 'request';
  },
  maySubscribe(unitId: string, filter: string): boolean {
    return isUnitId(unitId) && filter === filters.unitRequests(unitId);
  },
};
