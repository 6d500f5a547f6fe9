import { ReleaseManifest, ReleaseVersion, StringEnum, UpdatePolicy } from '@shouwang/protocol';
import { Type } from '@sinclair/typebox';
import { BUCKETS, CAMPAIGN_STATES, UNIT_STATES } from '../domain/rollout-status.ts';
import { Ms, Null, Obj } from './loop-schemas.ts';

/**
 * The release and campaign answers as the API documents them (OpenAPI response schemas). Like the
 * loop's (loop-schemas.ts) they describe and never reshape, and `test/ota-api-schemas.test.ts`
 * checks real answers against them with unknown fields refused.
 */

const Bytes = Type.Integer({ minimum: 0 });

export const ReleaseView = Obj(
  {
    version: ReleaseVersion,
    keyId: Type.String({ description: 'The trusted key that signed the manifest' }),
    publishedAt: Ms,
    publishedBy: Type.String({ description: 'Name (role) of who published it' }),
    manifest: ReleaseManifest,
    artifacts: Type.Array(
      Obj({
        name: Type.String(),
        from: Null(Type.String({ description: 'The version a delta applies to; null for the full download' })),
        size: Bytes,
        sha256: Type.String(),
      }),
      { description: 'The full download first, then the deltas' },
    ),
  },
  'A published release',
);
export const ReleaseList = Obj({ releases: Type.Array(ReleaseView) });

const Counts = Obj(Object.fromEntries(BUCKETS.map((b) => [b, Type.Integer({ minimum: 0 })])), 'Units in each bucket');
const Names = Type.Array(Type.String());

const campaignFields = {
  id: Type.String(),
  name: Type.String(),
  version: ReleaseVersion,
  state: StringEnum(CAMPAIGN_STATES),
  pauseReason: Null(Type.String({ description: 'Why it is paused, in words' })),
  pause: Null(
    Type.Union([
      Obj({
        by: Type.Literal('person'),
        who: Type.String(),
        role: Type.String(),
        reason: Type.Optional(Type.String({ description: 'Why, as the person gave it' })),
      }),
      Obj({ by: Type.Literal('failures'), failures: Type.Integer(), released: Type.Integer(), thresholdPct: Type.Number() }),
    ]),
  ),
  target: Obj({
    tags: Type.Optional(Names),
    sites: Type.Optional(Names),
    boards: Type.Optional(Names),
    cells: Type.Optional(Names),
    units: Type.Optional(Names),
  }),
  canary: Type.Integer({ minimum: 0 }),
  waves: Type.Array(Type.Number()),
  failureThreshold: Type.Number(),
  soakS: Type.Integer({ minimum: 0 }),
  policy: UpdatePolicy,
  createdAt: Ms,
  createdBy: Type.String(),
  startedAt: Null(Ms),
  deadlineAt: Null(Ms),
  deadlineH: Type.Number(),
  finishedAt: Null(Ms),
  releasedWave: Type.Integer({ minimum: -1, description: 'The last wave released (0: the canary); -1 before the start' }),
  nextWaveAt: Null(
    Type.Integer({
      minimum: 0,
      description:
        'ms since epoch: when the next wave goes if the units released have settled (looked at again later if not); null when none is due',
    }),
  ),
  counts: Counts,
  downloads: Obj(
    { delta: Type.Integer({ minimum: 0 }), full: Type.Integer({ minimum: 0 }) },
    'Units fetching a delta, and the full bundle',
  ),
  waveSummary: Type.Array(Obj({ wave: Type.Integer(), units: Type.Integer(), released: Type.Boolean(), counts: Counts })),
};
export const CampaignView = Obj(campaignFields, 'A campaign with its counts');
export const CampaignList = Obj({ campaigns: Type.Array(CampaignView) });

const CampaignUnit = Obj({
  unitId: Type.String(),
  wave: Type.Integer({ minimum: 0 }),
  state: StringEnum(UNIT_STATES),
  bucket: StringEnum(BUCKETS),
  reach: StringEnum(['online', 'asleep', 'unreachable'] as const),
  download: Null(StringEnum(['delta', 'full'] as const)),
  fromVersion: Null(Type.String({ description: 'The version the unit ran when it took the job' })),
  bytes: Null(Bytes),
  totalBytes: Null(Bytes),
  transferred: Null(Type.Integer({ minimum: 0, description: 'Fetched over the link, resumes and retries included' })),
  etaS: Null(Type.Integer({ minimum: 0 })),
  reason: Null(Type.String()),
  failedChecks: Type.Array(Type.String()),
  soc: Null(Type.Number()),
  detail: Null(Type.String()),
  deliveredAt: Null(Ms),
  updatedAt: Ms,
});
export const CampaignWithUnits = Obj({ ...campaignFields, units: Type.Array(CampaignUnit) }, 'A campaign and every unit in it');
