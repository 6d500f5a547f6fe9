import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AlarmError } from '../alarms/alarm-service.ts';
import { RegistryError } from '../registry/registry.ts';
import { TicketError } from '../tickets/ticket-service.ts';

/**
 * One error shape for the whole API, `{ error: { code, message, path? } }`, with codes a client
 * can switch on. A client's mistake (bad JSON, wrong content type, a body too large, a field
 * that fails its schema, an unknown route) is logged at info without a stack: it says nothing
 * about the fleet's health. Only what the fleet got wrong is an ERROR, and its detail stays in
 * the log, not in the reply.
 */
export interface ApiError {
  code: string;
  message: string;
  path?: string;
}

/** The domain's refusals by code: registry, alarms and tickets share one table. */
const DOMAIN_STATUS: Record<RegistryError['code'] | AlarmError['code'] | TicketError['code'], number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID: 400,
  CLAIM_REJECTED: 403,
  REASON_REQUIRED: 400,
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: { instancePath: string; message?: string }[];
  validationContext?: string;
}

/** Fastify's own request errors, by its error code, as ours. */
function fromFastify(err: FastifyLikeError, req: FastifyRequest): { status: number; error: ApiError } | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, error: { code: 'BAD_JSON', message: 'the request body is not valid JSON' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, error: { code: 'EMPTY_BODY', message: 'the request body is empty; this route takes a JSON object' } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: `content-type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted; send application/json`,
        },
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        error: { code: 'BODY_TOO_LARGE', message: `the request body is larger than ${req.server.initialConfig.bodyLimit} bytes` },
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, error: { code: 'BAD_CONTENT_LENGTH', message: 'the request body does not match its content-length' } };
  }
  return undefined;
}

export function classify(err: FastifyLikeError, req: FastifyRequest): { status: number; error: ApiError } {
  if (err instanceof RegistryError || err instanceof AlarmError || err instanceof TicketError)
    return { status: DOMAIN_STATUS[err.code], error: { code: err.code, message: err.message } };
  if (err.validation) {
    const first = err.validation[0];
    const path = `${err.validationContext ?? ''}${first?.instancePath ?? ''}`;
    return { status: 400, error: { code: 'BAD_REQUEST', message: err.message, path } };
  }
  const known = fromFastify(err, req);
  if (known) return known;
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, error: { code: 'BAD_REQUEST', message: err.message } };
  return { status: 500, error: { code: 'INTERNAL', message: 'internal error' } };
}

export function errorHandler(log: Logger) {
  return (err: FastifyLikeError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, error } = classify(err, req);
    const where = { method: req.method, url: req.url, status, code: error.code };
    if (status >= 500) log.error({ ...where, err }, 'request failed');
    else log.info({ ...where, reason: error.message }, 'request refused');
    return reply.code(status).send({ error });
  };
}

/** Unknown routes answer in the API's shape too, naming what was asked for. */
export function notFoundHandler(log: Logger) {
  return (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? req.url;
    log.info({ method: req.method, url: req.url, status: 404 }, 'no such route');
    return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}` } });
  };
}
