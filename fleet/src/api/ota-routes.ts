import { stat } from 'node:fs/promises';
import { ArtifactName, OTA_RELEASES_ROUTE, ReleasePublish, ReleaseVersion, UpdatePolicy } from '@shouwang/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CAMPAIGN_MOVES, type CampaignMove } from '../domain/rollout-status.ts';
import { type Actor, CampaignError, type CampaignInput } from '../ota/campaigns.ts';
import type { Ota } from '../ota/ota.ts';
import { openRange, ReleaseError } from '../ota/releases.ts';
import { type AuditStore, auditEntry } from '../storage/audit-store.ts';
import { AuditAnswer, answers } from './loop-schemas.ts';
import { CampaignList, CampaignView, CampaignWithUnits, ReleaseList, ReleaseView } from './ota-schemas.ts';
import { limitQuery } from './params.ts';

const RELEASE_STATUS: Record<ReleaseError['code'], number> = {
  KEY_UNKNOWN: 422,
  KEY_RETIRED: 422,
  SIGNATURE_INVALID: 422,
  MANIFEST_INVALID: 422,
  ARTIFACT_MISSING: 422,
  ARTIFACT_UNKNOWN: 422,
  ARTIFACT_MISMATCH: 422,
  RELEASE_EXISTS: 409,
  NOT_FOUND: 404,
};
const CAMPAIGN_STATUS: Record<CampaignError['code'], number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID: 400,
  NO_RELEASE: 422,
  EMPTY_TARGET: 422,
};

/** Who acted, as a campaign and a release record it: the token's name and role. */
function actorOf(req: FastifyRequest): Actor {
  return req.principal ? { name: req.principal.name, role: req.principal.role } : { name: 'loopback', role: 'none' };
}

/** Release and campaign refusals in the API's one error shape, with the failing part's path. */
async function answering<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (err) {
    const status = err instanceof ReleaseError ? RELEASE_STATUS[err.code] : err instanceof CampaignError ? CAMPAIGN_STATUS[err.code] : 0;
    if (!status || !(err instanceof ReleaseError || err instanceof CampaignError)) throw err;
    return reply.code(status).send({ error: { code: err.code, message: err.message, ...(err.path ? { path: err.path } : {}) } });
  }
}

const Names = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 1000 };
const CampaignBody = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120 },
    version: ReleaseVersion,
    target: {
      type: 'object',
      properties: { tags: Names, sites: Names, boards: Names, cells: Names, units: Names },
      additionalProperties: false,
      description: 'Units matching every selector given (tags: any of them)',
    },
    canary: { type: 'integer', minimum: 1, maximum: 1000, default: 1, description: 'Units in the canary group (the first wave)' },
    canaryUnits: { ...Names, maxItems: 1000, description: 'Units to put in the canary group first (those in the target)' },
    waves: {
      type: 'array',
      items: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
      minItems: 1,
      maxItems: 20,
      default: [25, 100],
      description: 'Cumulative share of the target reached by each later wave, %; the last is 100',
    },
    failureThreshold: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'Pause when failed and rolled-back units exceed this share of those released',
    },
    soakS: { type: 'integer', minimum: 0, maximum: 30 * 86_400, default: 3600, description: 'Least time between waves, s' },
    deadlineH: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 90 * 24,
      default: 14 * 24,
      description: 'The campaign ends this long after its start',
    },
    policy: { ...UpdatePolicy, default: { allowSatellite: false } },
  },
  required: ['name', 'version', 'target'],
  additionalProperties: false,
};
/** Optional: a move without a body (as the CLI and older clients send it) is one without a reason. */
const MoveBody = {
  type: ['object', 'null'],
  properties: {
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 300,
      description: "Why, in the mover's words: kept on the audit log (and on the pause, for a pause)",
    },
  },
  additionalProperties: false,
};
const ID = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] };
const VERSION = { type: 'object', properties: { version: ReleaseVersion }, required: ['version'] };

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` within `size`; null when unsatisfiable, undefined when absent. */
export function parseRange(h: string | undefined, size: number): { start: number; end: number } | null | undefined {
  if (h === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const [a, b] = [m[1] === '' ? null : Number(m[1]), m[2] === '' ? null : Number(m[2])];
  if (a === null) return b === null || b === 0 ? null : { start: Math.max(0, size - b), end: size - 1 };
  if (a >= size) return null;
  return { start: a, end: b === null ? size - 1 : Math.min(b, size - 1) };
}

/**
 * Releases (publish: signed and checked; list; show), the artifacts behind signed links with HTTP
 * Range (a cut download resumes), and campaigns: create, start, pause, resume, abort, and each
 * unit's status and progress. A maintainer publishes and moves; every other role reads.
 */
export function registerOtaRoutes(app: FastifyInstance, ota: Ota, audit: AuditStore, now: () => number): void {
  app.post<{ Body: ReleasePublish }>(
    OTA_RELEASES_ROUTE,
    {
      config: { action: 'manage-updates', summary: 'Publish a signed release with its artifacts (base64)' },
      bodyLimit: 80 * 1024 * 1024,
      schema: { body: ReleasePublish, response: answers(ReleaseView, 201) },
    },
    async (req, reply) =>
      answering(reply, async () =>
        reply.code(201).send(await ota.releases.publish(req.body, `${actorOf(req).name} (${actorOf(req).role})`)),
      ),
  );
  app.get(
    OTA_RELEASES_ROUTE,
    { config: { action: 'read', summary: 'Published releases, newest first' }, schema: { response: answers(ReleaseList) } },
    async () => ({ releases: await ota.releases.list() }),
  );
  app.get<{ Params: { version: string } }>(
    `${OTA_RELEASES_ROUTE}/:version`,
    {
      config: { action: 'read', summary: 'One release: its manifest and artifacts' },
      schema: { params: VERSION, response: answers(ReleaseView) },
    },
    async (req, reply) => answering(reply, () => ota.releases.get(req.params.version)),
  );
  app.get<{ Params: { version: string }; Querystring: { limit: number } }>(
    `${OTA_RELEASES_ROUTE}/:version/audit`,
    {
      config: { action: 'read', summary: 'Publishes and campaign writes that concerned this release, newest first' },
      schema: { params: VERSION, querystring: limitQuery(500, 50), response: answers(AuditAnswer) },
    },
    async (req) => ({
      id: req.params.version,
      entries: (await audit.forRelease(req.params.version, req.query.limit)).map(auditEntry),
    }),
  );

  // No bearer token: the link's own signature, unit and expiry are the credential (a unit has no API token).
  app.get<{ Params: { version: string; name: string }; Querystring: { unit?: string; exp?: string; sig?: string } }>(
    '/api/ota/artifacts/:version/:name',
    {
      config: { summary: 'An artifact behind a signed, expiring link; Range requests resume a cut download' },
      schema: {
        params: { type: 'object', properties: { version: ReleaseVersion, name: ArtifactName }, required: ['version', 'name'] },
        querystring: {
          type: 'object',
          properties: { unit: { type: 'string' }, exp: { type: 'string' }, sig: { type: 'string' } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const { version, name } = req.params;
      const refused = ota.links.check(version, name, req.query, now());
      if (refused) return reply.code(403).send({ error: { code: 'LINK_REFUSED', message: refused } });
      const file = await ota.releases.file(version, name);
      if (!file) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `release ${version} has no artifact ${name}` } });
      const size = (await stat(file.path)).size;
      const range = parseRange(req.headers.range, size);
      reply.header('accept-ranges', 'bytes');
      if (range === null)
        return reply
          .code(416)
          .header('content-range', `bytes */${size}`)
          .send({ error: { code: 'RANGE_NOT_SATISFIABLE', message: `the artifact has ${size} bytes` } });
      const { start, end } = range ?? { start: 0, end: size - 1 };
      if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
      const body = await openRange(file.path, start, end);
      const unit = req.query.unit as string;
      body.on('data', (chunk: Buffer | string) => ota.served.add(unit, chunk.length));
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', end - start + 1)
        .send(body);
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    '/api/ota/campaigns',
    {
      config: { action: 'read', summary: 'Campaigns, newest first, with their counts' },
      schema: { querystring: limitQuery(500, 100), response: answers(CampaignList) },
    },
    async (req) => ({ campaigns: await ota.campaigns.list(req.query.limit) }),
  );
  app.post<{ Body: CampaignInput }>(
    '/api/ota/campaigns',
    {
      config: { action: 'manage-updates', summary: 'Create a campaign (a draft until started)' },
      schema: { body: CampaignBody, response: answers(CampaignView, 201) },
    },
    async (req, reply) => answering(reply, async () => reply.code(201).send(await ota.campaigns.create(req.body, actorOf(req)))),
  );
  app.get<{ Params: { id: string } }>(
    '/api/ota/campaigns/:id',
    {
      config: { action: 'read', summary: 'A campaign, its waves and every unit: state, step, bytes, ETA' },
      schema: { params: ID, response: answers(CampaignWithUnits) },
    },
    async (req, reply) =>
      answering(reply, async () => ({ ...(await ota.campaigns.view(req.params.id)), units: await ota.campaigns.units(req.params.id) })),
  );
  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/api/ota/campaigns/:id/audit',
    {
      config: { action: 'read', summary: 'Writes that concerned this campaign, newest first: who, what, when, result' },
      schema: { params: ID, querystring: limitQuery(500, 50), response: answers(AuditAnswer) },
    },
    async (req) => ({ id: req.params.id, entries: (await audit.forCampaign(req.params.id, req.query.limit)).map(auditEntry) }),
  );
  for (const move of Object.keys(CAMPAIGN_MOVES) as CampaignMove[]) {
    app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
      `/api/ota/campaigns/:id/${move}`,
      {
        config: { action: 'manage-updates', summary: `${move[0]?.toUpperCase()}${move.slice(1)} a campaign, with a reason if given` },
        schema: { params: ID, body: MoveBody, response: answers(CampaignView) },
      },
      async (req, reply) => answering(reply, () => ota.campaigns.move(req.params.id, move, actorOf(req), req.body?.reason)),
    );
  }
}
