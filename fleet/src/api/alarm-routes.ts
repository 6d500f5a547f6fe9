import type { FastifyInstance } from 'fastify';
import type { AlarmLoop } from '../alarms/loop.ts';
import { alarmOccurrences } from '../storage/alarm-occurrences.ts';
import { actorOf } from './actor.ts';
import { areaNames } from './area-names.ts';
import { AlarmComments, AlarmList, AlarmRecord, AlarmWithComments, answers, FloodAnswer } from './loop-schemas.ts';

const EPISODE = { type: 'object', properties: { episode: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['episode'] };
const STATE = { type: 'string', enum: ['active', 'acknowledged', 'cleared'] };

/**
 * The alarm console's API: episodes (not cleared by default) with stale and shelved flags,
 * acknowledge, shelve (who, why, until), comments, and the flood state per district.
 */
export function registerAlarmRoutes(app: FastifyInstance, loop: AlarmLoop, now: () => number): void {
  app.get<{ Querystring: { state?: 'active' | 'acknowledged' | 'cleared'; unit?: string; district?: string; limit: number } }>(
    '/api/alarms',
    {
      config: { action: 'read', summary: 'Alarm episodes, newest first (not cleared unless `state` says)' },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            state: STATE,
            unit: { type: 'string' },
            district: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 },
          },
          additionalProperties: false,
        },
        response: answers(AlarmList),
      },
    },
    async (req) => {
      const alarms = await loop.alarms.list({
        limit: req.query.limit,
        ...(req.query.state ? { state: req.query.state } : {}),
        ...(req.query.unit ? { unitId: req.query.unit } : {}),
        ...(req.query.district ? { district: req.query.district } : {}),
      });
      // The fleet's clock (it runs faster beside simulated units): the console reads ages against it.
      return {
        now: now(),
        alarms,
        names: areaNames(
          loop.grid,
          alarms.map((a) => a.district),
        ),
      };
    },
  );

  app.get<{ Querystring: { from?: number; to?: number } }>(
    '/api/alarms/flood',
    {
      config: {
        action: 'read',
        summary: 'Flood state per district (more than N alarms in the window), share of time in flood, priority mix',
      },
      schema: {
        querystring: {
          type: 'object',
          properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
          additionalProperties: false,
        },
        response: answers(FloodAnswer),
      },
    },
    async (req) => {
      const to = req.query.to ?? now();
      const from = req.query.from ?? to - 24 * 3_600_000;
      const districts = await loop.alarms.flood(from, to);
      return {
        from,
        to,
        districts,
        names: areaNames(
          loop.grid,
          districts.map((d) => d.district),
        ),
      };
    },
  );

  app.get<{ Params: { episode: string } }>(
    '/api/alarms/:episode',
    {
      config: { action: 'read', summary: "One alarm episode with its comments and the units' alarm ids behind it" },
      schema: { params: EPISODE, response: answers(AlarmWithComments) },
    },
    async (req) => ({
      alarm: await loop.alarms.get(req.params.episode),
      comments: await loop.alarms.comments(req.params.episode),
      occurrences: await alarmOccurrences(loop.ticketStore.db, { episode: req.params.episode }),
    }),
  );

  app.post<{ Params: { episode: string } }>(
    '/api/alarms/:episode/acknowledge',
    {
      config: { action: 'answer-alarms', summary: 'Acknowledges an active alarm' },
      schema: { params: EPISODE, response: answers(AlarmRecord) },
    },
    async (req) => {
      await loop.alarms.acknowledge(req.params.episode, actorOf(req));
      return loop.alarms.get(req.params.episode);
    },
  );

  app.post<{ Params: { episode: string }; Body: { reason: string; minutes: number } }>(
    '/api/alarms/:episode/shelve',
    {
      config: { action: 'answer-alarms', summary: 'Shelves an alarm for `minutes`, with a reason' },
      schema: {
        params: EPISODE,
        body: {
          type: 'object',
          properties: {
            reason: { type: 'string', minLength: 1, maxLength: 500 },
            minutes: { type: 'integer', minimum: 1, maximum: 7 * 24 * 60 },
          },
          required: ['reason', 'minutes'],
          additionalProperties: false,
        },
        response: answers(AlarmRecord),
      },
    },
    async (req) => {
      await loop.alarms.shelve(req.params.episode, actorOf(req), req.body.reason, req.body.minutes);
      return loop.alarms.get(req.params.episode);
    },
  );

  app.post<{ Params: { episode: string }; Body: { text: string } }>(
    '/api/alarms/:episode/comments',
    {
      config: { action: 'answer-alarms', summary: 'Adds a comment to an alarm' },
      schema: {
        params: EPISODE,
        body: {
          type: 'object',
          properties: { text: { type: 'string', minLength: 1, maxLength: 2000 } },
          required: ['text'],
          additionalProperties: false,
        },
        response: answers(AlarmComments, 201),
      },
    },
    async (req, reply) => {
      await loop.alarms.comment(req.params.episode, actorOf(req), req.body.text);
      return reply.code(201).send({ comments: await loop.alarms.comments(req.params.episode) });
    },
  );
}
