import type { Static, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { Decoder, Encoder } from 'cbor-x';
import { UPLINK, type UplinkPayload } from './api.ts';
import { CompactShapeError, pack, unpack } from './compact.ts';
import { ErrorCode, fail, type Result } from './errors.ts';
import {
  type CommandName,
  type CommandRequest,
  type CommandResponse,
  commandMaxBytes,
  requestSchema,
  responseSchema,
} from './messages/command.ts';
import { MEDIA_CHUNK_HEADER_BYTES, MEDIA_CHUNK_MAX_BYTES, MediaChunk } from './messages/media.ts';
import { MANIFEST_MAX_BYTES, ReleaseManifest } from './messages/ota.ts';
import { type ParsedTopic, parseTopic, type UplinkKind } from './topics.ts';

/**
 * Encodings on the wire. A JSON payload is an object and so starts with `{`; a compact payload
 * is a CBOR array and so starts with a byte in 0x80–0x9f (RFC 8949 major type 4). Decoders
 * tell them apart by that first byte, which MQTT 3.1.1 needs since it has no content type.
 */
export type Encoding = 'json' | 'compact';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const cborEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(schema, c);
  }
  return c;
}

export function encodeWith(schema: TSchema, value: unknown, encoding: Encoding): Uint8Array {
  return encoding === 'json' ? utf8Encoder.encode(JSON.stringify(value)) : cborEncoder.encode(pack(schema, value));
}

export function sniffEncoding(bytes: Uint8Array): Encoding | undefined {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue; // JSON whitespace
    if (b === 0x7b) return 'json';
    if (b >= 0x80 && b <= 0x9f) return 'compact';
    return undefined;
  }
  return undefined;
}

/** Decode and validate; never throws on bad input, and names the failing field when it can. */
export function decodeWith<S extends TSchema>(schema: S, bytes: Uint8Array, maxBytes: number): Result<Static<S>> {
  if (bytes.length > maxBytes) return fail(ErrorCode.TooLarge, `payload of ${bytes.length} B exceeds ${maxBytes} B`);
  const encoding = sniffEncoding(bytes);
  if (!encoding) return fail(ErrorCode.Encoding, 'payload is neither a JSON object nor a compact CBOR array');
  let value: unknown;
  try {
    value = encoding === 'json' ? JSON.parse(utf8Decoder.decode(bytes)) : unpack(schema, cborDecoder.decode(bytes));
  } catch (err) {
    if (err instanceof CompactShapeError) return fail(ErrorCode.Schema, err.message, err.path || '/');
    return fail(ErrorCode.Encoding, `malformed ${encoding} payload: ${(err as Error).message}`);
  }
  return checkValue(schema, value);
}

/** Validate a value already parsed (an HTTP body, a Node-RED message); names the failing field. */
export function checkValue<S extends TSchema>(schema: S, value: unknown): Result<Static<S>> {
  const check = checker(schema);
  if (check.Check(value)) return { ok: true, value: value as Static<S> };
  const first = check.Errors(value).First();
  return fail(ErrorCode.Schema, first?.message ?? 'does not match schema', first?.path || '/');
}

/**
 * Reads a signed manifest's body. Call it only after the signature over `body` checked out: what
 * was signed is these bytes, so they are parsed, never re-serialised and compared.
 */
export function decodeManifestBody(body: string): Result<ReleaseManifest> {
  if (new TextEncoder().encode(body).length > MANIFEST_MAX_BYTES)
    return fail(ErrorCode.TooLarge, `manifest over ${MANIFEST_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return fail(ErrorCode.Encoding, `manifest is not JSON: ${(err as Error).message}`);
  }
  return checkValue(ReleaseManifest, value);
}

export function encodeUplink<K extends UplinkKind>(kind: K, payload: UplinkPayload<K>, encoding: Encoding = 'json'): Uint8Array {
  return encodeWith(UPLINK[kind].schema, payload, encoding);
}

export function decodeUplink<K extends UplinkKind>(kind: K, bytes: Uint8Array): Result<UplinkPayload<K>> {
  const spec = UPLINK[kind];
  return decodeWith(spec.schema, bytes, spec.maxBytes) as Result<UplinkPayload<K>>;
}

const requestSchemas = new Map<CommandName, TSchema>();
const responseSchemas = new Map<CommandName, TSchema>();
function cached(map: Map<CommandName, TSchema>, name: CommandName, make: (n: CommandName) => TSchema): TSchema {
  let s = map.get(name);
  if (!s) {
    s = make(name);
    map.set(name, s);
  }
  return s;
}

export function encodeRequest<C extends CommandName>(command: C, request: CommandRequest<C>, encoding: Encoding = 'json'): Uint8Array {
  return encodeWith(cached(requestSchemas, command, requestSchema), request, encoding);
}
export function decodeRequest<C extends CommandName>(command: C, bytes: Uint8Array): Result<CommandRequest<C>> {
  return decodeWith(cached(requestSchemas, command, requestSchema), bytes, commandMaxBytes(command)) as Result<CommandRequest<C>>;
}
export function encodeResponse<C extends CommandName>(command: C, response: CommandResponse<C>, encoding: Encoding = 'json'): Uint8Array {
  return encodeWith(cached(responseSchemas, command, responseSchema), response, encoding);
}
export function decodeResponse<C extends CommandName>(command: C, bytes: Uint8Array): Result<CommandResponse<C>> {
  return decodeWith(cached(responseSchemas, command, responseSchema), bytes, commandMaxBytes(command)) as Result<CommandResponse<C>>;
}

/** Largest chunk message: the biggest `data` and its header fields. */
export const MEDIA_CHUNK_MESSAGE_MAX_BYTES = MEDIA_CHUNK_MAX_BYTES + MEDIA_CHUNK_HEADER_BYTES;

/** A chunk always goes compact: its data and hashes are CBOR byte strings, never text. */
export function encodeChunk(chunk: MediaChunk): Uint8Array {
  return encodeWith(MediaChunk, chunk, 'compact');
}

export function decodeChunk(bytes: Uint8Array): Result<MediaChunk> {
  if (sniffEncoding(bytes) === 'json') return fail(ErrorCode.Encoding, 'a media chunk is sent in the compact encoding only');
  return decodeWith(MediaChunk, bytes, MEDIA_CHUNK_MESSAGE_MAX_BYTES);
}

/** A decoded message of any kind, as the gateway validates and the fleet ingests it. */
export type DecodedMessage =
  | { unitId: string; type: 'chunk'; payload: MediaChunk }
  | { [K in UplinkKind]: { unitId: string; type: 'uplink'; kind: K; payload: UplinkPayload<K> } }[UplinkKind]
  | { unitId: string; type: 'request'; command: CommandName; payload: CommandRequest<CommandName> }
  | { unitId: string; type: 'response'; command: CommandName; payload: CommandResponse<CommandName> };

/** Topic + payload → a typed message, or the reason it is refused. */
export function decodeMessage(topic: string, bytes: Uint8Array): Result<DecodedMessage> {
  const parsed = parseTopic(topic);
  return parsed.ok ? decodeAtTopic(parsed.value, bytes) : parsed;
}

/** The same, for a caller that has parsed the topic already (the gateway checks its ACL first). */
export function decodeAtTopic(t: ParsedTopic, bytes: Uint8Array): Result<DecodedMessage> {
  if (t.type === 'chunk') {
    const r = decodeChunk(bytes);
    return r.ok ? { ok: true, value: { unitId: t.unitId, type: 'chunk', payload: r.value } } : r;
  }
  if (t.type === 'uplink') {
    const r = decodeUplink(t.kind, bytes);
    return r.ok ? { ok: true, value: { unitId: t.unitId, type: 'uplink', kind: t.kind, payload: r.value } as DecodedMessage } : r;
  }
  if (t.type === 'request') {
    const r = decodeRequest(t.command, bytes);
    return r.ok ? { ok: true, value: { unitId: t.unitId, type: 'request', command: t.command, payload: r.value } } : r;
  }
  const r = decodeResponse(t.command, bytes);
  return r.ok ? { ok: true, value: { unitId: t.unitId, type: 'response', command: t.command, payload: r.value } } : r;
}
