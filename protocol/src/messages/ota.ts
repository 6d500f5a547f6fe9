import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';

/**
 * Over-the-air updates: the signed release, the job the fleet gives a unit, and what the unit
 * reports back.
 *
 * Trust: a release is a `ReleaseManifest` serialised once to JSON (`SignedManifest.body`) and
 * signed with Ed25519 over exactly those UTF-8 bytes, so no party ever re-serialises what was
 * signed. The unit verifies the signature against its own list of trusted keys (a retired key is
 * refused) before it parses the body, then checks every downloaded artifact's SHA-256 against the
 * manifest before it decompresses or patches, and the resulting bundle's SHA-256 before it installs.
 *
 * Transport: the job travels as the `ota` command (`req/ota`, QoS 1, `expires` = the job's
 * deadline), so the gateway keeps it in a sleeping unit's persistent session; the unit answers at
 * once with the step it took the job into, persists it, and reports progress and the outcome on its
 * retained `ota` uplink. Artifacts are fetched over HTTP(S) with Range requests from the locations
 * in the job (opaque, possibly signed and expiring URLs), so a cut download resumes where it stopped.
 */

export const ReleaseVersion = Type.String({
  pattern: '^[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,6}(-[0-9A-Za-z.-]{1,16})?$',
  maxLength: 32,
  description: 'Release version, major.minor.patch with an optional pre-release tag',
});
export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lower-case hex' });
export const KeyId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,32}$', description: 'Name of a release signing key' });
export const CampaignId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Rollout campaign id' });
export const ArtifactName = Type.String({
  pattern: '^[A-Za-z0-9._-]{1,96}$',
  description: 'File name of a release artifact, unique within its release',
});
const BoardId = Type.String({ pattern: '^[a-z0-9-]{1,16}$', description: 'Board definition id, e.g. pi4' });
const Bytes = Type.Integer({ minimum: 0, maximum: 2 ** 40 });

export const OTA_MANIFEST_FORMAT = 1;

/** A downloadable file of a release, checked by size and hash before it is used. */
export const ReleaseArtifact = Type.Object({ name: ArtifactName, size: Bytes, sha256: Sha256 }, { additionalProperties: false });
export type ReleaseArtifact = Static<typeof ReleaseArtifact>;

/** A binary delta (zstd --patch-from) that turns the bundle of version `from` into this release's bundle. */
export const ReleaseDelta = Type.Object(
  {
    from: ReleaseVersion,
    /** SHA-256 of the bundle the delta applies to: a unit whose slot differs gets the full download. */
    fromSha256: Sha256,
    name: ArtifactName,
    size: Bytes,
    sha256: Sha256,
  },
  { additionalProperties: false },
);
export type ReleaseDelta = Static<typeof ReleaseDelta>;

export const ReleaseManifest = Type.Object(
  {
    format: Type.Literal(OTA_MANIFEST_FORMAT),
    version: ReleaseVersion,
    createdAt: Timestamp,
    boards: Type.Array(BoardId, { minItems: 1, maxItems: 16, description: 'Boards the release runs on' }),
    minBatteryPct: Type.Number({ minimum: 0, maximum: 100, description: 'No install starts below this state of charge' }),
    /** The agent bundle as installed in a slot: what `full` decompresses to and each delta patches to. */
    bundle: Type.Object({ size: Bytes, sha256: Sha256 }, { additionalProperties: false }),
    /** The bundle, zstd-compressed: the download when no delta applies. */
    full: ReleaseArtifact,
    deltas: Type.Array(ReleaseDelta, { maxItems: 8, description: 'Deltas from recent releases; older ones take the full download' }),
    stateVersion: Type.Integer({
      minimum: 1,
      maximum: 1000,
      description: 'On-device state version this release writes; the previous release still reads it',
    }),
    stateReadableFrom: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description:
          'Lowest state version whose agent still reads the state this release writes (raised only by a breaking change); a unit below it refuses the release, since it could not roll back. Absent: 1',
      }),
    ),
    notes: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type ReleaseManifest = Static<typeof ReleaseManifest>;

/** Largest manifest body: eight deltas fit, and a job with its artifact locations stays inside COMMAND_MAX_BYTES. */
export const MANIFEST_MAX_BYTES = 4096;

export const SignedManifest = Type.Object(
  {
    body: Type.String({
      maxLength: MANIFEST_MAX_BYTES,
      description: 'The ReleaseManifest as JSON; the signature covers these UTF-8 bytes exactly',
    }),
    keyId: KeyId,
    signature: Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$', description: 'Ed25519 signature of body, base64' }),
  },
  { additionalProperties: false },
);
export type SignedManifest = Static<typeof SignedManifest>;

/**
 * The release signing keys a unit (and the fleet's registry) trusts, kept as a JSON file outside
 * the repository. Rotation adds the new key, signs with it, and later marks the old one `retired`:
 * a manifest signed by a retired key is refused even though the signature is valid.
 */
export const TrustedKeys = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          id: KeyId,
          publicKey: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'Raw 32-byte Ed25519 public key, base64' }),
          retired: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      { maxItems: 32 },
    ),
  },
  { additionalProperties: false },
);
export type TrustedKeys = Static<typeof TrustedKeys>;

/** A daily window in the unit's local time (its `timeZone`); `end` before `start` wraps past midnight. */
export const MaintenanceWindow = Type.Object(
  {
    start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local' }),
    end: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local' }),
  },
  { additionalProperties: false },
);
export type MaintenanceWindow = Static<typeof MaintenanceWindow>;

export const UpdatePolicy = Type.Object(
  {
    /** Download on a satellite link: off unless the maintainer forces it (the budget is a few KB a day). */
    allowSatellite: Type.Boolean(),
    window: Type.Optional(MaintenanceWindow),
    /** Raises the manifest's battery floor for this campaign; never lowers it. */
    minBatteryPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type UpdatePolicy = Static<typeof UpdatePolicy>;

/** The `ota` command's arguments: one campaign's update for one unit. */
export const UpdateJob = Type.Object(
  {
    campaign: CampaignId,
    release: SignedManifest,
    /**
     * Where artifacts of the release can be fetched: the full one, and the delta for the version the
     * fleet believes the unit runs. The unit picks the delta that matches its slot, else the full.
     */
    artifacts: Type.Array(
      Type.Object({ name: ArtifactName, url: Type.String({ pattern: '^https?://', maxLength: 512 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 3 },
    ),
    /** The unit gives the job up (failed, `deadline`) if it has not committed by then: days, not a reply timeout. */
    deadline: Timestamp,
    policy: UpdatePolicy,
  },
  { additionalProperties: false },
);
export type UpdateJob = Static<typeof UpdateJob>;

/**
 * Where a unit is with a job. `queued` and `deferred` are waiting (not failed); `downloading` to
 * `health-check` are active; `committed`, `rolled-back`, `failed` and `cancelled` are final.
 */
export const OTA_STEPS = [
  'queued',
  'deferred',
  'downloading',
  'verifying',
  'installing',
  'restarting',
  'health-check',
  'committed',
  'rolled-back',
  'failed',
  'cancelled',
] as const;
export type OtaStep = (typeof OTA_STEPS)[number];

export const OTA_STEP_CLASS = {
  queued: 'waiting',
  deferred: 'waiting',
  downloading: 'active',
  verifying: 'active',
  installing: 'active',
  restarting: 'active',
  'health-check': 'active',
  committed: 'done',
  'rolled-back': 'failed',
  failed: 'failed',
  cancelled: 'done',
} as const satisfies Record<OtaStep, 'waiting' | 'active' | 'done' | 'failed'>;

/** Why a job is deferred (`battery`, `link`, `window`) or how it ended badly (the rest). */
export const OTA_REASONS = [
  'battery',
  'link',
  'window',
  'board',
  'signature',
  'key-unknown',
  'key-retired',
  'manifest',
  'no-artifact',
  'download',
  'hash',
  'patch',
  'disk',
  'deadline',
  'crash-loop',
  'health-check',
  'superseded',
  'state',
] as const;
export type OtaReason = (typeof OTA_REASONS)[number];

/** What the health check after a switch covers: the unit's real work, not only that the process runs. */
export const HEALTH_CHECKS = ['mqtt', 'gps', 'camera', 'alarm'] as const;
export type HealthCheck = (typeof HEALTH_CHECKS)[number];

/** Retained on `ota`: the unit's running version and where its latest job stands. */
export const OtaStatus = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    running: Type.String({ maxLength: 32, description: 'Agent version running now' }),
    campaign: Type.Optional(CampaignId),
    target: Type.Optional(ReleaseVersion),
    step: StringEnum(OTA_STEPS),
    reason: Type.Optional(StringEnum(OTA_REASONS)),
    download: Type.Optional(
      Type.Object(
        {
          /** `full` when no delta applies to the running version: counted by the fleet, never silent. */
          kind: StringEnum(['delta', 'full'] as const),
          done: Bytes,
          total: Bytes,
          /** Bytes fetched over the link for this artifact, retries and resumes included. */
          transferred: Bytes,
          resumes: Type.Integer({ minimum: 0, maximum: 100000 }),
        },
        { additionalProperties: false },
      ),
    ),
    etaS: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, description: 'Seconds left in the current step, estimated' })),
    soc: Type.Optional(Scaled(10, { minimum: 0, maximum: 100, description: 'State of charge when deferred for battery, %' })),
    failedChecks: Type.Optional(Type.Array(StringEnum(HEALTH_CHECKS), { maxItems: HEALTH_CHECKS.length })),
    detail: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type OtaStatus = Static<typeof OtaStatus>;

/**
 * What a maintainer's CLI uploads to the fleet's releases registry (`POST /api/ota/releases`): the
 * signed manifest and every artifact it names, base64. The fleet checks each artifact against the
 * manifest's size and hash and the signature against its own copy of the trusted keys before it
 * accepts the release; it serves the artifacts with Range support at the URLs it puts in jobs.
 */
export const OTA_RELEASES_ROUTE = '/api/ota/releases';
export const ReleasePublish = Type.Object(
  {
    manifest: SignedManifest,
    artifacts: Type.Array(
      Type.Object(
        { name: ArtifactName, data: Type.String({ maxLength: 8 * 1024 * 1024, description: 'base64' }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 9 },
    ),
  },
  { additionalProperties: false },
);
export type ReleasePublish = Static<typeof ReleasePublish>;
