/**
 * A recording stand-in for the city's systems, on loopback and a free port: a 12345 platform's
 * work-order webhook (`POST /12345/work-orders`, JSON checked against the protocol's WorkOrder)
 * and an Open311 GeoReport v2 endpoint (`POST /open311/requests.json`, form fields checked against
 * the shipped definition in ../shared/testdata/open311/; `GET /open311/requests/{id}.json`). Each
 * keeps one order per idempotency key and answers a repeat 409, as a platform that honours the
 * key would. Faults are scripted per target: the next answers fail with a status, hang (no answer
 * until the caller gives up), or refuse for good. Anything it does not implement answers 501.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkValue, WorkOrder } from '@shouwang/protocol';
import { Ajv } from 'ajv';

export type Target = '12345' | 'open311';

export interface Received {
  target: Target;
  key: string;
  at: number;
  body: Record<string, unknown>;
}

/** `hang`: no answer at all; `accept-hang`: the order is taken, the answer never comes (a lost reply). */
type Fault = { kind: 'status'; status: number } | { kind: 'hang' } | { kind: 'accept-hang' };

const SWAGGER = new URL('../../../shared/testdata/open311/georeport-v2-swagger.json', import.meta.url);

interface SwaggerParam {
  name?: string;
  $ref?: string;
  in?: string;
  required?: boolean;
  type?: string;
}

/**
 * The POST /requests.{format} operation of the shipped definition as one JSON Schema over the form
 * fields: its parameters (path parameters aside) with their types and required ones, plus the
 * Request definition's fields a client sends (description, media_url) and the `attribute[code]`
 * form of its `attribute` array; nothing else.
 */
function open311PostSchema(): object {
  const doc = JSON.parse(readFileSync(SWAGGER, 'utf8')) as {
    parameters: Record<string, SwaggerParam>;
    paths: Record<string, Record<string, { parameters: SwaggerParam[] }>>;
    definitions: { Request: { properties: Record<string, { type: string }> } };
  };
  const op = doc.paths['/requests.{response_format}']?.post;
  if (!op) throw new Error('the Open311 definition has no POST /requests.{response_format}');
  const params = op.parameters.map((p) => (p.$ref ? doc.parameters[p.$ref.split('/').pop() as string] : p) as SwaggerParam);
  const properties: Record<string, object> = { api_key: { type: 'string' } };
  const required: string[] = [];
  for (const p of params) {
    if (!p.name || p.in === 'path' || p.name === 'attribute') continue;
    properties[p.name] = { type: p.type === 'number' ? 'number' : 'string' };
    if (p.required) required.push(p.name);
  }
  for (const f of ['description', 'media_url'] as const) {
    const def = doc.definitions.Request.properties[f];
    if (!def) throw new Error(`the Open311 Request definition has no ${f}`);
    properties[f] = { type: def.type, ...(f === 'media_url' ? { pattern: '^https?://' } : { maxLength: 4000 }) };
  }
  return {
    type: 'object',
    properties,
    required,
    patternProperties: { '^attribute\\[[A-Za-z0-9_-]+\\]$': { type: 'string' } },
    additionalProperties: false,
  };
}

export interface CityPlatform {
  base: string;
  url12345: string;
  urlOpen311: string;
  /** Orders each target accepted (first time per key), in arrival order. */
  accepted(target: Target): Received[];
  /** Every request each target saw, accepted or not. */
  requests(target: Target): number;
  /** Open311 status look-ups (GET /requests/{id}.json) answered. */
  lookups(): number;
  /** TCP connections callers opened, both targets together. */
  connections(): number;
  /** Repeats each target recognised (answered 409). */
  duplicates(target: Target): number;
  /** Requests that did not match the contract (answered 400): should stay empty. */
  invalid: { target: Target; reason: string }[];
  /** The next `n` requests to `target` get this fault instead of an answer. */
  fault(target: Target, n: number, fault: Fault): void;
  /** Requests whose key matches are refused for good with `status` (e.g. 422). */
  refuse(target: Target, matches: (key: string) => boolean, status?: number): void;
  /** The city changed its mind: nothing is refused any more. */
  clearRefusals(): void;
  /** Sets an Open311 request's status, as the city would when it closes it. */
  setOpen311Status(serviceRequestId: string, status: 'open' | 'closed', notes?: string): void;
  onAccepted?: (r: Received) => void;
}

export async function startCityPlatform(t: { after(fn: () => unknown): void }): Promise<CityPlatform> {
  const ajv = new Ajv({ allErrors: true, coerceTypes: false });
  const checkOpen311 = ajv.compile(open311PostSchema());
  const accepted: Record<Target, Received[]> = { '12345': [], open311: [] };
  const seen: Record<Target, Set<string>> = { '12345': new Set(), open311: new Set() };
  const requests: Record<Target, number> = { '12345': 0, open311: 0 };
  const duplicates: Record<Target, number> = { '12345': 0, open311: 0 };
  const faults: Record<Target, Fault[]> = { '12345': [], open311: [] };
  const refusals: Record<Target, { matches: (key: string) => boolean; status: number }[]> = { '12345': [], open311: [] };
  const open311: Map<
    string,
    { status: 'open' | 'closed'; notes?: string; requested: string; code: string; body: Record<string, unknown> }
  > = new Map();
  const invalid: CityPlatform['invalid'] = [];
  const hung: http.ServerResponse[] = [];
  let platform: CityPlatform;

  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  /**
   * Faults, then refusals, then the key: what every target does before it records an order.
   * True: record it and answer; 'silent': record it and never answer.
   */
  const gate = (target: Target, key: string, res: http.ServerResponse): boolean | 'silent' => {
    requests[target]++;
    // A lost reply is for an order the platform takes: a repeat of a key it has passes it by.
    const next = faults[target][0];
    const f = next && !(next.kind === 'accept-hang' && seen[target].has(key)) ? faults[target].shift() : undefined;
    if (f?.kind === 'hang') {
      hung.push(res);
      return false;
    }
    if (f?.kind === 'status') {
      answer(res, f.status, { error: `scripted ${f.status}` });
      return false;
    }
    const r = refusals[target].find((x) => x.matches(key));
    if (r) {
      answer(res, r.status, { error: `refused: ${key} is not a matter this platform takes` });
      return false;
    }
    if (seen[target].has(key)) {
      duplicates[target]++;
      answer(res, 409, { error: `duplicate: ${key} already received` });
      return false;
    }
    if (f?.kind === 'accept-hang') {
      hung.push(res);
      return 'silent';
    }
    return true;
  };

  const record = (target: Target, key: string, body: Record<string, unknown>) => {
    seen[target].add(key);
    const r = { target, key, at: Date.now(), body };
    accepted[target].push(r);
    platform.onAccepted?.(r);
  };

  const on12345 = (req: http.IncomingMessage, res: http.ServerResponse, text: string) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      invalid.push({ target: '12345', reason: 'not JSON' });
      return answer(res, 400, { error: 'not JSON' });
    }
    const w = checkValue(WorkOrder, body);
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!w.ok) {
      invalid.push({ target: '12345', reason: `${w.error.path} ${w.error.message}` });
      return answer(res, 400, { error: `${w.error.path} ${w.error.message}` });
    }
    const expected = w.value.event === 'created' ? w.value.idempotencyKey : `${w.value.idempotencyKey}#${w.value.revision}`;
    if (key !== expected) {
      invalid.push({ target: '12345', reason: `Idempotency-Key ${key}, expected ${expected}` });
      return answer(res, 400, { error: 'Idempotency-Key does not match the work order' });
    }
    const go = gate('12345', key, res);
    if (!go) return;
    record('12345', key, w.value as unknown as Record<string, unknown>);
    if (go === true) answer(res, 201, { workOrderNo: `WO-${accepted['12345'].length}` });
  };

  const onOpen311Post = (req: http.IncomingMessage, res: http.ServerResponse, text: string) => {
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      invalid.push({ target: 'open311', reason: `content-type ${req.headers['content-type']}` });
      return answer(res, 400, [{ code: 400, description: 'form-encoded fields expected' }]);
    }
    const fields: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(text)) fields[k] = k === 'lat' || k === 'long' ? Number(v) : v;
    if (!checkOpen311(fields)) {
      const reason = ajv.errorsText(checkOpen311.errors);
      invalid.push({ target: 'open311', reason });
      return answer(res, 400, [{ code: 400, description: reason }]);
    }
    const key = String(fields['attribute[idempotency_key]'] ?? '');
    if (!key) {
      invalid.push({ target: 'open311', reason: 'no idempotency_key attribute' });
      return answer(res, 400, [{ code: 400, description: 'attribute[idempotency_key] required' }]);
    }
    const go = gate('open311', key, res);
    if (!go) return;
    const id = String(100_000 + open311.size + 1);
    open311.set(id, { status: 'open', requested: new Date().toISOString(), code: String(fields.service_code), body: fields });
    record('open311', key, { ...fields, service_request_id: id });
    if (go === true) answer(res, 200, [{ service_request_id: id, service_notice: 'received' }]);
  };

  let lookups = 0;
  const onOpen311Get = (res: http.ServerResponse, id: string) => {
    lookups++;
    const r = open311.get(id);
    if (!r) return answer(res, 404, [{ code: 404, description: `no request ${id}` }]);
    answer(res, 200, [
      {
        service_request_id: id,
        status: r.status,
        ...(r.notes ? { status_notes: r.notes } : {}),
        service_code: r.code,
        requested_datetime: r.requested,
        updated_datetime: new Date().toISOString(),
        description: String(r.body.description ?? ''),
      },
    ]);
  };

  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const get = /^\/open311\/requests?\/([^/]+)\.json$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/12345/work-orders') on12345(req, res, text);
      else if (req.method === 'POST' && url.pathname === '/open311/requests.json') onOpen311Post(req, res, text);
      else if (req.method === 'GET' && get) onOpen311Get(res, decodeURIComponent(get[1] as string));
      else answer(res, 501, { error: `${req.method} ${url.pathname} is not implemented here` });
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const r of hung) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  platform = {
    base,
    url12345: `${base}/12345/work-orders`,
    urlOpen311: `${base}/open311`,
    accepted: (target) => accepted[target],
    requests: (target) => requests[target],
    duplicates: (target) => duplicates[target],
    lookups: () => lookups,
    connections: () => connections,
    invalid,
    fault: (target, n, fault) => {
      for (let i = 0; i < n; i++) faults[target].push(fault);
    },
    refuse: (target, matches, status = 422) => {
      refusals[target].push({ matches, status });
    },
    clearRefusals: () => {
      refusals['12345'].length = 0;
      refusals.open311.length = 0;
    },
    setOpen311Status: (id, status, notes) => {
      const r = open311.get(id);
      if (!r) throw new Error(`no Open311 request ${id}`);
      r.status = status;
      if (notes !== undefined) r.notes = notes;
    },
  };
  return platform;
}
