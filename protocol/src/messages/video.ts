import { type Static, Type } from '@sinclair/typebox';
import { Seq, StringEnum, Timestamp } from '../schema-kit.ts';
import { RecordingId, Sha256Hex } from './media.ts';

/**
 * The video ladder: the unit steps down as power and the month's data forecast tighten, so a
 * month never ends over the SIM plan. `full`, `reduced` and `low` record continuously (about
 * 1024, 512 and 256 kbit/s); `snapshots` keeps stills on a schedule and on alarm; `events` records
 * only clips around alarms; `off` records nothing (critical power, no camera).
 */
export const VIDEO_MODES = ['full', 'reduced', 'low', 'snapshots', 'events', 'off'] as const;
export type VideoMode = (typeof VIDEO_MODES)[number];

/**
 * Why the unit is below `full`, or why it refuses a live feed or a talk-down. Stable: the
 * dashboard shows each in words.
 */
export const MEDIA_REASONS = [
  'satellite',
  'critical-power',
  'power',
  'data-budget',
  'camera-fault',
  'speaker-fault',
  'busy',
  'configured',
] as const;
export type MediaReason = (typeof MEDIA_REASONS)[number];

export const LiveFeedId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,36}$', description: 'Live feed id, chosen by the unit' });

/** The camera's state as the unit reports it (retained, sent on change). */
export const VideoStatus = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    mode: StringEnum(VIDEO_MODES),
    reason: Type.Optional(StringEnum(MEDIA_REASONS, { description: 'Why the mode is below `full`' })),
    bitrateKbps: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    fps: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 })),
    encoder: Type.Optional(StringEnum(['hardware', 'software'] as const)),
    audio: Type.Optional(Type.Boolean()),
    live: Type.Optional({ ...LiveFeedId, description: 'The live feed running now, if any' }),
    ringBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes in the recording ring' })),
    ringQuotaBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    pinned: Type.Optional(Type.Integer({ minimum: 0, description: 'Alarm clips kept until the fleet holds them' })),
    backlogBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Media bytes waiting to upload' })),
    snapshot: Type.Optional({ ...RecordingId, description: 'The latest snapshot' }),
  },
  { additionalProperties: false },
);
export type VideoStatus = Static<typeof VideoStatus>;

const Refused = Type.Object(
  {
    state: Type.Literal('refused'),
    reason: StringEnum(MEDIA_REASONS),
    detail: Type.String({ maxLength: 160, description: 'The reason in words, e.g. the link or the power rung' }),
    snapshot: Type.Optional({ ...RecordingId, description: 'The latest snapshot, to show instead' }),
  },
  { additionalProperties: false },
);

/**
 * `live-start`: the unit switches to short low-latency segments and sends them as `live` chunks
 * until `until`; asking again with the same `feed` extends it, so a feed nobody renews stops by
 * itself. Refused on satellite and in critical power, with the latest snapshot named instead.
 */
export const LiveStartArgs = Type.Object(
  {
    feed: Type.Optional({ ...LiveFeedId, description: 'Renew this feed instead of starting one' }),
    forS: Type.Optional(Type.Integer({ minimum: 5, maximum: 600, description: 'Run this long unless renewed; default 30' })),
    segmentMs: Type.Optional(Type.Integer({ minimum: 500, maximum: 4000, description: 'Segment length; default 1000' })),
  },
  { additionalProperties: false },
);
export const LiveStartData = Type.Union([
  Type.Object(
    {
      state: Type.Literal('live'),
      feed: LiveFeedId,
      segmentMs: Type.Integer({ minimum: 1 }),
      bitrateKbps: Type.Integer({ minimum: 0 }),
      until: Timestamp,
    },
    { additionalProperties: false },
  ),
  Refused,
]);
export type LiveStartData = Static<typeof LiveStartData>;

export const LiveStopArgs = Type.Object({ feed: LiveFeedId }, { additionalProperties: false });
export const LiveStopData = Type.Object({ state: StringEnum(['stopped', 'unknown'] as const) }, { additionalProperties: false });

/** Recorded messages every unit carries, played by name. */
export const STOCK_MESSAGES = ['leave-area', 'help-coming', 'recording', 'stay-calm'] as const;
export type StockMessage = (typeof STOCK_MESSAGES)[number];

/** A recorded talk-down message rides in the request itself (compact encoding: raw bytes). */
export const TALK_DOWN_MAX_AUDIO_BYTES = 48 * 1024;

const Volume = Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Speaker volume, %' }));

/**
 * `talk-down`: play a stock message or a short recorded one on the unit's speaker. Recorded audio
 * is raw bytes, so that request goes in the compact encoding. Refused when the power rung or the
 * link does not allow it (a satellite link cannot carry the audio), or the speaker is faulty.
 */
export const TalkDownArgs = Type.Union([
  Type.Object({ stock: StringEnum(STOCK_MESSAGES), volume: Volume }, { additionalProperties: false }),
  Type.Object(
    {
      audio: Type.Uint8Array({ minByteLength: 1, maxByteLength: TALK_DOWN_MAX_AUDIO_BYTES }),
      type: StringEnum(['audio/ogg', 'audio/wav'] as const),
      durationMs: Type.Integer({ minimum: 1, maximum: 30_000 }),
      volume: Volume,
    },
    { additionalProperties: false },
  ),
]);
export type TalkDownArgs = Static<typeof TalkDownArgs>;
export const TalkDownData = Type.Union([
  Type.Object(
    {
      state: Type.Literal('playing'),
      durationMs: Type.Integer({ minimum: 0 }),
      sha256: Type.Optional({ ...Sha256Hex, description: 'SHA-256 of the audio the unit plays' }),
    },
    { additionalProperties: false },
  ),
  Refused,
]);
export type TalkDownData = Static<typeof TalkDownData>;
