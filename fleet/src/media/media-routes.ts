import { RecordingId, rangeBytes, UnitId } from '@shouwang/protocol';
import type { FastifyInstance } from 'fastify';
import type { Media } from './media.ts';

const ALARM_ID = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' };

/**
 * Read-only views of what units have sent: a unit's recordings (what has arrived of each), one
 * stored file (for the player and the ticket page), and an alarm's evidence with the parts that
 * have arrived and whether its chain holds.
 */
export function registerMediaRoutes(app: FastifyInstance, media: Media): void {
  app.get<{ Params: { id: string }; Querystring: { limit: number; alarm?: string } }>(
    '/api/units/:id/media',
    {
      config: { action: 'read', summary: "The unit's recordings, newest first: how much of each has arrived, verified" },
      schema: {
        params: { type: 'object', properties: { id: UnitId }, required: ['id'] },
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, alarm: ALARM_ID },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const rows = await media.store.list(req.params.id, {
        limit: req.query.limit,
        ...(req.query.alarm === undefined ? {} : { alarmId: req.query.alarm }),
      });
      return {
        id: req.params.id,
        media: rows.map(({ have, location: _location, unitId: _unit, ...r }) => ({ ...r, receivedBytes: rangeBytes(have) })),
      };
    },
  );

  app.get<{ Params: { id: string; recording: string } }>(
    '/api/units/:id/media/:recording',
    {
      config: {
        action: 'read',
        summary: 'One stored recording as the unit recorded it (404 until all of it arrived and matched its SHA-256)',
      },
      schema: {
        params: { type: 'object', properties: { id: UnitId, recording: RecordingId }, required: ['id', 'recording'] },
      },
    },
    async (req, reply) => {
      const m = await media.store.get(req.params.id, req.params.recording);
      if (m?.state !== 'complete' || !m.location) {
        return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no stored recording ${req.params.recording}` } });
      }
      reply.header('content-type', m.type ?? 'application/octet-stream');
      reply.header('content-length', m.size);
      reply.header('x-content-sha256', m.sha256);
      return reply.send(await media.blobs.open(m.location));
    },
  );

  app.get<{ Params: { id: string; alarm: string } }>(
    '/api/units/:id/alarms/:alarm/evidence',
    {
      config: { action: 'read', summary: "An alarm's evidence: its parts, which have arrived, and whether the chain holds" },
      schema: { params: { type: 'object', properties: { id: UnitId, alarm: ALARM_ID }, required: ['id', 'alarm'] } },
    },
    async (req, reply) => {
      const status = await media.evidence.status(req.params.id, req.params.alarm);
      if (!status) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no evidence for ${req.params.alarm}` } });
      return status;
    },
  );
}
