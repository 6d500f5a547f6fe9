import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { LiveFeedId, UnitId } from '@shouwang/protocol';
import type { FastifyInstance } from 'fastify';
import { LIVE_WINDOW, livePlaylist } from '../domain/live-feed.ts';
import { commandAction } from '../domain/roles.ts';
import { CommandTimeout } from '../services/commands.ts';
import { LiveRefused, type LiveViewing } from './live.ts';
import type { Media } from './media.ts';

/** A segment whose chunks did not say how long it is: the unit's default live segment. */
const DEFAULT_SEGMENT_MS = 1000;
const VIEWER = { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$', description: 'The player, chosen by the page' };
const BODY = { type: 'object', properties: { viewer: VIEWER }, required: ['viewer'], additionalProperties: false };

/**
 * Live video for the dashboard's player: a viewer's keep-alive starts or renews the unit's feed
 * (`POST …/live`, answered with the feed or the unit's refusal and its latest still), the last
 * viewer leaving stops it, and each feed is served as a sliding HLS playlist whose segments are the
 * stored live recordings (`GET /api/units/:id/media/:recording`).
 */
export function registerLiveRoutes(app: FastifyInstance, media: Media, live: LiveViewing): void {
  const action = commandAction('live-start');
  // hls.js as its own file, not in the page's bundle: only a commander who opens a feed loads it.
  const hlsFile = createRequire(import.meta.url).resolve('hls.js/dist/hls.light.min.mjs');
  let hlsJs: Promise<Buffer> | undefined;
  app.get('/assets/hls.mjs', async (_req, reply) => {
    hlsJs ??= readFile(hlsFile);
    return reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'max-age=86400')
      .send(await hlsJs);
  });

  app.post<{ Params: { id: string }; Body: { viewer: string } }>(
    '/api/units/:id/live',
    {
      config: { action, summary: "A viewer's keep-alive: starts or renews the unit's live feed, or says why the unit refuses" },
      schema: { params: { type: 'object', properties: { id: UnitId }, required: ['id'] }, body: BODY },
    },
    async (req, reply) => {
      try {
        return await live.watch(req.params.id, req.body.viewer);
      } catch (err) {
        if (err instanceof CommandTimeout)
          return reply
            .code(504)
            .send({ error: { code: 'UNIT_TIMEOUT', message: `${err.message}; the unit may be asleep or out of reach` } });
        if (err instanceof LiveRefused) return reply.code(502).send({ error: { code: err.code, message: err.message } });
        throw err;
      }
    },
  );

  app.post<{ Params: { id: string }; Body: { viewer: string } }>(
    '/api/units/:id/live/leave',
    {
      config: { action, summary: 'A player closed; the last viewer leaving stops the feed' },
      schema: { params: { type: 'object', properties: { id: UnitId }, required: ['id'] }, body: BODY },
    },
    async (req, reply) => {
      // Answered at once: the page is going away and does not wait for the unit.
      live
        .leave(req.params.id, req.body.viewer)
        .catch((err: unknown) => req.log.warn({ err, unitId: req.params.id }, 'live-stop not answered'));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string; feed: string } }>(
    '/api/units/:id/live/:feed/index.m3u8',
    {
      config: { action: 'read', summary: "The feed's HLS playlist: its newest stored segments (404 until the first has arrived)" },
      schema: { params: { type: 'object', properties: { id: UnitId, feed: LiveFeedId }, required: ['id', 'feed'] } },
    },
    async (req, reply) => {
      const { id, feed } = req.params;
      const rows = await media.store.liveSegments(id, feed, LIVE_WINDOW * 2);
      const playlist = livePlaylist(
        feed,
        rows.map((r) => ({ recording: r.recording, durationMs: r.durationMs ?? DEFAULT_SEGMENT_MS, startTs: r.startTs })),
        (recording) => `/api/units/${encodeURIComponent(id)}/media/${encodeURIComponent(recording)}`,
      );
      if (!playlist) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no segment of ${feed} has arrived yet` } });
      return reply.header('content-type', 'application/vnd.apple.mpegurl').header('cache-control', 'no-store').send(playlist);
    },
  );
}
