import { execFile } from 'node:child_process';
import { STOCK_MESSAGES, type StockMessage, TALK_DOWN_MAX_AUDIO_BYTES, type TalkDownArgs, UnitId } from '@shouwang/protocol';
import type { FastifyInstance } from 'fastify';
import { talkDownRefusal } from '../domain/live-feed.ts';
import { commandAction } from '../domain/roles.ts';
import type { UnitState } from '../domain/unit-state.ts';
import { CommandTimeout } from '../services/commands.ts';
import type { UnitCommands } from '../services/unit-commands.ts';

/** What a browser records (MediaRecorder: WebM/Opus in Chromium, Ogg/Opus in Firefox) or a file. */
const AUDIO_TYPES = ['audio/webm', 'audio/ogg', 'audio/wav'] as const;
/** A recording as it comes from the browser: WebM's framing is remuxed away before the size limit. */
const MAX_UPLOAD_BYTES = 4 * TALK_DOWN_MAX_AUDIO_BYTES;

/**
 * Talk-down from the dashboard: `POST /api/units/:id/talk-down` with `{ stock }` (JSON) plays a
 * message the unit carries; with a recorded message as the body (`audio/webm`, `audio/ogg`,
 * `audio/wav`; `?durationMs=`) it sends that. WebM from Chromium's recorder is remuxed to Ogg
 * (Opus copied, not re-encoded: ffmpeg) since the unit plays Ogg or WAV. Refused with a reason by
 * the fleet (recorded audio on satellite, a rung with the speaker off) or by the unit (busy, no
 * speaker, its own rung), answered 200 either way so the page can say why.
 */
export function registerTalkDownRoutes(app: FastifyInstance, commands: UnitCommands, unit: (id: string) => UnitState | undefined): void {
  app.addContentTypeParser([...AUDIO_TYPES], { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));

  app.post<{ Params: { id: string }; Body: { stock: string; volume?: number } | Buffer; Querystring: { durationMs?: number } }>(
    '/api/units/:id/talk-down',
    {
      config: {
        action: commandAction('talk-down'),
        summary: 'Plays a stock or a recorded message on the unit’s loudspeaker, or says why not',
      },
      schema: {
        params: { type: 'object', properties: { id: UnitId }, required: ['id'] },
        querystring: {
          type: 'object',
          properties: { durationMs: { type: 'integer', minimum: 1, maximum: 30_000 } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const recorded = Buffer.isBuffer(req.body);
      const refusal = talkDownRefusal(unit(id), recorded);
      if (refusal) return { state: 'refused', ...refusal };
      let args: TalkDownArgs;
      if (Buffer.isBuffer(req.body)) {
        if (req.query.durationMs === undefined)
          return reply
            .code(400)
            .send({ error: { code: 'SW_ERR_SCHEMA', message: 'a recorded message needs ?durationMs=', path: '/durationMs' } });
        const type = req.headers['content-type']?.split(';')[0]?.trim();
        const audio = type === 'audio/webm' ? await webmToOgg(req.body).catch((err: Error) => err) : req.body;
        if (audio instanceof Error) return reply.code(400).send({ error: { code: 'SW_ERR_SCHEMA', message: audio.message } });
        if (audio.length > TALK_DOWN_MAX_AUDIO_BYTES)
          return reply.code(413).send({
            error: {
              code: 'BODY_TOO_LARGE',
              message: `the message is ${audio.length} bytes; a unit takes ${TALK_DOWN_MAX_AUDIO_BYTES}: record a shorter one`,
            },
          });
        args = { audio: new Uint8Array(audio), type: type === 'audio/wav' ? 'audio/wav' : 'audio/ogg', durationMs: req.query.durationMs };
      } else {
        const b = req.body as { stock?: unknown; volume?: unknown };
        if (!STOCK_MESSAGES.includes(b.stock as never))
          return reply
            .code(400)
            .send({ error: { code: 'SW_ERR_SCHEMA', message: `stock must be one of ${STOCK_MESSAGES.join(', ')}`, path: '/stock' } });
        args = { stock: b.stock as StockMessage };
      }
      try {
        const { response } = await commands.send(id, 'talk-down', args, req.principal?.tokenId ?? 'loopback');
        if (response.status === 'error')
          return reply.code(502).send({ error: { ...response.error, message: `${id} answered: ${response.error.message}` } });
        return response.data;
      } catch (err) {
        if (err instanceof CommandTimeout)
          return reply
            .code(504)
            .send({ error: { code: 'UNIT_TIMEOUT', message: `${err.message}; the unit may be asleep or out of reach` } });
        throw err;
      }
    },
  );
}

/** Chromium's recorder writes WebM; the same Opus stream in an Ogg container, for the unit. */
function webmToOgg(webm: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-map', '0:a:0', '-c:a', 'copy', '-f', 'ogg', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: MAX_UPLOAD_BYTES, timeout: 10_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`the recording is not WebM audio: ${stderr.toString().trim() || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(webm);
  });
}
