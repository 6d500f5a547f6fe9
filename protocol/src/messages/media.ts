import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../schema-kit.ts';

/**
 * Bulk media from a unit: segments of its ring, alarm clips, snapshots and live segments. A file
 * travels as chunks on `sw/v1/<unitId>/chunk`, always in the compact encoding (a CBOR array whose
 * `data` and hashes are CBOR byte strings, RFC 8949 major type 2), so media bytes are never
 * inflated by base64 or JSON. Each chunk names its file and its byte offset and carries the
 * SHA-256 of its own bytes, so the receiver verifies it alone and writes it in place: an upload
 * resumes at any offset, in any order, after a reconnect or a restart. The whole file's size and
 * SHA-256 ride on every chunk once the file is finished (a live or ring segment always is), so
 * the receiver can check the assembled file without any other message. The fleet says what it
 * holds with the `media-ack` command.
 */

/** A recording's id, unique per unit (the unit names its files); appears in topics nowhere. */
export const RecordingId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Recording id, unique per unit' });
export type RecordingId = Static<typeof RecordingId>;

/**
 * `segment`: a piece of the recording ring; `clip`: the file cut around an alarm (pre-roll from the
 * ring + post-roll), pinned on the unit until the fleet holds it; `snapshot`: a still; `live`: a
 * short low-latency segment of a live feed, dropped rather than queued when it is too old to play.
 */
export const MEDIA_KINDS = ['segment', 'clip', 'snapshot', 'live'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export const MEDIA_TYPES = ['video/mp2t', 'video/mp4', 'image/jpeg', 'audio/ogg', 'audio/wav'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** A SHA-256 digest as 32 raw bytes (inside binary chunks). */
export const Sha256Bytes = Type.Uint8Array({ minByteLength: 32, maxByteLength: 32, description: 'SHA-256, 32 bytes' });
/** A SHA-256 digest as 64 lower-case hex digits (in JSON-readable messages). */
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, 64 hex digits' });

/** Largest chunk payload; the unit picks smaller ones on slow links (one chunk ≈ the wait an alarm may see). */
export const MEDIA_CHUNK_MAX_BYTES = 128 * 1024;
/** Largest file a unit may send as one recording. */
export const MEDIA_FILE_MAX_BYTES = 256 * 1024 * 1024;
/** Room for the chunk's header fields around its data, in the compact encoding. */
export const MEDIA_CHUNK_HEADER_BYTES = 512;

export const MediaChunk = Type.Object(
  {
    recording: RecordingId,
    kind: StringEnum(MEDIA_KINDS),
    offset: Type.Integer({ minimum: 0, maximum: MEDIA_FILE_MAX_BYTES - 1, description: 'Byte offset of `data` in the file' }),
    hash: { ...Sha256Bytes, description: 'SHA-256 of `data`' },
    data: Type.Uint8Array({ minByteLength: 1, maxByteLength: MEDIA_CHUNK_MAX_BYTES, description: 'The bytes at `offset`' }),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: MEDIA_FILE_MAX_BYTES, description: 'Whole file, bytes, once known' })),
    sha256: Type.Optional({ ...Sha256Bytes, description: 'SHA-256 of the whole file, once known' }),
    type: Type.Optional(StringEnum(MEDIA_TYPES, { description: 'Container; sent with the chunk at offset 0' })),
    startTs: Type.Optional(Type.Integer({ minimum: 0, description: 'Capture start, ms since epoch (not rounded in compact)' })),
    durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
    alarm: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$', description: 'Alarm this clip or snapshot was taken for' })),
  },
  { additionalProperties: false },
);
export type MediaChunk = Static<typeof MediaChunk>;

/** A half-open byte range [offset, offset + length) of a file. */
export const ByteRange = Type.Object(
  { offset: Type.Integer({ minimum: 0 }), length: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type ByteRange = Static<typeof ByteRange>;

/**
 * What the fleet holds of one recording, sent to the unit as `media-ack`: `partial` lists the
 * verified ranges (coalesced) so the unit sends only the gaps; `complete` means the assembled file
 * matched its size and SHA-256 (the unit may unpin and evict it); `refused` means the fleet will not
 * take more of it (`reason`: a quota, a hash that does not match, a file over the limit), and the
 * unit stops sending it; `abandoned` means the fleet gave up the partial upload (no chunk came for
 * its staging age) and holds none of it (`have` empty): the unit sends it all again from offset 0
 * if it still holds the file whole, or drops it.
 */
export const MEDIA_ACK_STATES = ['partial', 'complete', 'refused', 'abandoned'] as const;
export const MEDIA_REFUSALS = ['quota', 'hash-mismatch', 'too-large', 'conflict'] as const;
export type MediaRefusal = (typeof MEDIA_REFUSALS)[number];

export const MediaAck = Type.Object(
  {
    recording: RecordingId,
    state: StringEnum(MEDIA_ACK_STATES),
    have: Type.Array(ByteRange, { maxItems: 64, description: 'Verified ranges, coalesced; the rest is still wanted' }),
    reason: Type.Optional(StringEnum(MEDIA_REFUSALS)),
  },
  { additionalProperties: false },
);
export type MediaAck = Static<typeof MediaAck>;
