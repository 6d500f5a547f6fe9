import type { FastifyInstance } from 'fastify';
import type { TokenService } from '../auth/tokens.ts';
import { ROLES, type Role } from '../domain/roles.ts';
import type { Registry, UnitDetails } from '../registry/registry.ts';
import { ID_PARAMS } from './params.ts';

const SITE = {
  type: ['object', 'null'],
  properties: {
    name: { type: ['string', 'null'], maxLength: 80 },
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lon: { type: 'number', minimum: -180, maximum: 180 },
  },
  required: ['lat', 'lon'],
  additionalProperties: false,
};
const DETAILS = {
  board: { type: ['string', 'null'], maxLength: 16 },
  tags: { type: 'array', items: { type: 'string', maxLength: 32 }, maxItems: 16 },
  site: SITE,
  gridCell: { type: ['string', 'null'], maxLength: 32, description: 'Grid cell (网格) the unit serves' },
  dataBudgetBytes: {
    type: ['integer', 'null'],
    minimum: 0,
    description: "Monthly data budget of the unit's SIM or satellite plan, bytes; null = the link type's default",
  },
};

/** Registry, provisioning and API tokens. */
export function registerRegistryRoutes(app: FastifyInstance, registry: Registry, tokens: TokenService): void {
  app.get('/api/registry/units', { config: { action: 'read' } }, async () => ({ units: await registry.list() }));

  app.get<{ Params: { id: string } }>('/api/registry/units/:id', { config: { action: 'read' }, schema: { params: ID_PARAMS } }, (req) =>
    registry.get(req.params.id),
  );

  app.post<{ Body: UnitDetails & { id: string } }>(
    '/api/registry/units',
    {
      config: { action: 'manage-units', summary: 'Registers a unit; the answer carries its one-time claim code (shown once).' },
      schema: {
        body: { type: 'object', properties: { id: { type: 'string' }, ...DETAILS }, required: ['id'], additionalProperties: false },
      },
    },
    async (req, reply) => {
      const { id, ...details } = req.body;
      return reply.code(201).send(await registry.register(id, details));
    },
  );

  app.patch<{ Params: { id: string }; Body: UnitDetails }>(
    '/api/registry/units/:id',
    {
      config: { action: 'manage-units' },
      schema: { params: ID_PARAMS, body: { type: 'object', properties: DETAILS, additionalProperties: false } },
    },
    (req) => registry.update(req.params.id, req.body),
  );

  app.post<{ Body: UnitDetails & { code: string } }>(
    '/api/claim',
    {
      config: { action: 'claim', summary: "Claims a unit with its claim code; answers the unit's own MQTT credentials (shown once)." },
      schema: {
        body: {
          type: 'object',
          properties: { code: { type: 'string', minLength: 12, maxLength: 20 }, ...DETAILS },
          required: ['code'],
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const { code, ...details } = req.body;
      return reply.code(201).send(await registry.claim(code, details));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/registry/units/:id/rotate',
    { config: { action: 'manage-units', summary: 'Issues a new MQTT secret; the old one stops working.' }, schema: { params: ID_PARAMS } },
    (req) => registry.rotate(req.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/api/registry/units/:id/revoke',
    { config: { action: 'manage-units', summary: 'Removes the credential; the gateway ends the session.' }, schema: { params: ID_PARAMS } },
    (req) => registry.revoke(req.params.id),
  );

  app.get('/api/tokens', { config: { action: 'manage-tokens' } }, async () => ({ tokens: await tokens.list() }));

  app.post<{ Body: { role: Role; name: string } }>(
    '/api/tokens',
    {
      config: { action: 'manage-tokens', summary: 'Issues a bearer token (shown once).' },
      schema: {
        body: {
          type: 'object',
          properties: { role: { type: 'string', enum: [...ROLES] }, name: { type: 'string', minLength: 1, maxLength: 80 } },
          required: ['role', 'name'],
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => reply.code(201).send(await tokens.issue(req.body.role, req.body.name)),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/tokens/:id',
    { config: { action: 'manage-tokens' }, schema: { params: ID_PARAMS } },
    async (req, reply) =>
      (await tokens.revoke(req.params.id))
        ? reply.code(204).send()
        : reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no active token ${req.params.id}` } }),
  );
}
