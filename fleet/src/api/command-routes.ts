import { COMMAND_NAMES, COMMANDS, type CommandName } from '@shouwang/protocol';
import type { FastifyInstance } from 'fastify';
import { commandAction } from '../domain/roles.ts';
import { CommandTimeout } from '../services/commands.ts';
import type { UnitCommands } from '../services/unit-commands.ts';
import { limitQuery, UNIT_ID_PARAMS } from './params.ts';

/**
 * One route per command, `POST /api/units/:id/commands/<name>`, each with the protocol's own
 * schema for its args (so OpenAPI documents them and a bad argument is refused here, not after a
 * satellite round trip) and its own role: looking and testing for technicians, changing a unit's
 * behaviour for maintainers. The unit's answer comes back as is; its refusal is a 502 with the
 * unit's error code, no answer in time a 504.
 */
export function registerCommandRoutes(app: FastifyInstance, commands: UnitCommands, knows: (id: string) => Promise<boolean>): void {
  for (const name of COMMAND_NAMES) if (!NOT_ROUTED.has(name)) registerCommand(app, name, commands, knows);

  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/api/units/:id/commissioning',
    {
      config: { action: 'read', summary: "The unit's commissioning runs, newest first: each item pass/fail with what was measured" },
      schema: {
        params: UNIT_ID_PARAMS,
        querystring: limitQuery(200, 20),
      },
    },
    async (req) => ({ id: req.params.id, runs: await commands.commissioning(req.params.id, req.query.limit) }),
  );
}

/**
 * Not for callers: `media-ack` is the fleet's own (sent by a caller it could make a unit drop a clip
 * the fleet does not hold), and `talk-down` carries raw audio, which a JSON body cannot.
 */
const NOT_ROUTED: ReadonlySet<CommandName> = new Set(['media-ack', 'talk-down']);

function registerCommand(app: FastifyInstance, name: CommandName, commands: UnitCommands, knows: (id: string) => Promise<boolean>): void {
  app.post<{ Params: { id: string }; Body: { args?: unknown; timeoutS?: number } }>(
    `/api/units/:id/commands/${name}`,
    {
      config: {
        action: commandAction(name),
        summary:
          name === 'commission'
            ? 'Runs the commissioning checklist on the unit and records the result'
            : `Sends \`${name}\` to the unit and answers with its response`,
      },
      schema: {
        params: UNIT_ID_PARAMS,
        body: {
          type: 'object',
          properties: {
            args: COMMANDS[name].args,
            timeoutS: { type: 'number', minimum: 1, maximum: 600, description: 'How long to wait for the answer' },
          },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      if (!(await knows(id))) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no unit ${id}` } });
      try {
        const timeoutMs = req.body?.timeoutS === undefined ? undefined : req.body.timeoutS * 1000;
        const { response, record } = await commands.send(
          id,
          name,
          (req.body?.args ?? {}) as never,
          req.principal?.tokenId ?? 'loopback',
          timeoutMs,
        );
        if (response.status === 'error') {
          return reply.code(502).send({ error: { ...response.error, message: `${id} answered: ${response.error.message}` } });
        }
        return record ?? { id, command: name, data: response.data };
      } catch (err) {
        if (err instanceof CommandTimeout) {
          return reply.code(504).send({
            error: { code: 'UNIT_TIMEOUT', message: `${err.message}; a sleeping unit answers at its next contact, or the request expires` },
          });
        }
        throw err;
      }
    },
  );
}
