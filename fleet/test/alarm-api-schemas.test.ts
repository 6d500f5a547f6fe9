/**
 * The alarm, ticket and flows routes answer what their OpenAPI response schemas say: each real
 * answer (successes and a refusal) is checked against the schema the route declares, with unknown
 * fields refused, and the served document lists a response schema for every such operation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadLetters, FLOWS_ROUTES, LeasedEvents, retryPath, StatusResult } from '@shouwang/protocol';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  AlarmComments,
  AlarmList,
  AlarmRecord,
  AlarmWithComments,
  ApiErrorBody,
  AuditAnswer,
  FloodAnswer,
  KpiAnswer,
  Retried,
  Settled,
  TicketList,
  TicketView,
  TicketWithTimeline,
} from '../src/api/loop-schemas.ts';
import { intrusion } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-api-schema-test';

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: TSchema }> }> }>> };

test('alarm, ticket and flows answers agree with their response schemas, and the document lists them', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: role })).body.token as string;
  const [dispatcher, operator, flows] = (await Promise.all(['dispatcher', 'department-operator', 'flows'].map(token))) as [
    string,
    string,
    string,
  ];
  const unit = await unitClient(t, broker.url, 'hrb-701');
  await send(unit, 'hrb-701', 'alarm', intrusion(1, 'motion-1'));
  await waitFor(async () => ((await api('GET', '/api/tickets', ADMIN)).body.tickets as unknown[]).length === 1);
  const doc = (await api('GET', '/api/openapi.json', null)).body as Doc;

  /** Calls the route and checks the answer against `schema` and against what the document lists for it. */
  const call = async (method: 'GET' | 'POST', route: string, url: string, who: string, schema: TSchema, status: number, body?: unknown) => {
    const r = await api(method, url, who, body);
    assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
    const errors = [...Value.Errors(schema, r.body)].map((e) => `${e.path}: ${e.message}`);
    assert.deepEqual(errors, [], `${method} ${url} answers what its schema says`);
    const key = status < 400 ? String(status) : '4XX';
    const listed =
      doc.paths[route.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.responses?.[key]?.content?.['application/json']?.schema;
    assert.ok(listed, `${method} ${route} lists a ${key} schema`);
    assert.deepEqual(Object.keys(listed.properties ?? {}).sort(), Object.keys(schema.properties ?? {}).sort(), `${method} ${route}`);

    return r.body as Record<string, unknown>;
  };

  const { alarms, names: alarmNames } = (await call('GET', '/api/alarms', '/api/alarms', ADMIN, AlarmList, 200)) as {
    alarms: { episode: string }[];
    names: unknown;
  };
  assert.deepEqual(alarmNames, { daoli: 'Daoli 道里' });
  const ep = encodeURIComponent(alarms[0]?.episode ?? '');
  await call('GET', '/api/alarms/:episode', `/api/alarms/${ep}`, ADMIN, AlarmWithComments, 200);
  await call('POST', '/api/alarms/:episode/acknowledge', `/api/alarms/${ep}/acknowledge`, dispatcher, AlarmRecord, 200);
  await call('POST', '/api/alarms/:episode/acknowledge', `/api/alarms/${ep}/acknowledge`, dispatcher, ApiErrorBody, 409);
  await call('POST', '/api/alarms/:episode/shelve', `/api/alarms/${ep}/shelve`, dispatcher, AlarmRecord, 200, {
    reason: 'patrol on site',
    minutes: 30,
  });
  await call('POST', '/api/alarms/:episode/comments', `/api/alarms/${ep}/comments`, dispatcher, AlarmComments, 201, { text: 'seen' });
  const flood = await call('GET', '/api/alarms/flood', '/api/alarms/flood', ADMIN, FloodAnswer, 200);
  assert.deepEqual(flood.names, { daoli: 'Daoli 道里' });

  const { tickets, names } = (await call('GET', '/api/tickets', '/api/tickets', ADMIN, TicketList, 200)) as {
    tickets: { id: string; grid: { cell: string; district: string } }[];
    names: Record<string, string>;
  };
  const id = tickets[0]?.id ?? '';
  // The grid's names beside its ids, for the areas the answer mentions: a reader sees "Daoli 道里".
  const grid = tickets[0]?.grid;
  assert.deepEqual(
    [grid?.district, names.daoli, names[grid?.cell ?? '']?.startsWith('Grid ')],
    ['daoli', 'Daoli 道里', true],
    JSON.stringify(names),
  );
  const one = await call('GET', '/api/tickets/:id', `/api/tickets/${id}`, ADMIN, TicketWithTimeline, 200);
  assert.deepEqual(one.names, names, 'the ticket names the same areas as its row');
  await call('GET', '/api/tickets/:id', '/api/tickets/no-such-ticket', ADMIN, ApiErrorBody, 404);
  await call('POST', '/api/tickets/:id/sign', `/api/tickets/${id}/sign`, operator, TicketView, 200, {});
  await call('POST', '/api/tickets/:id/close', `/api/tickets/${id}/close`, dispatcher, ApiErrorBody, 409, {});
  assert.deepEqual((await call('GET', '/api/kpis', '/api/kpis?level=district', ADMIN, KpiAnswer, 200)).names, { daoli: 'Daoli 道里' });
  await call('GET', '/api/tickets/:id/audit', `/api/tickets/${id}/audit`, ADMIN, AuditAnswer, 200);
  await call('GET', '/api/units/:id/audit', '/api/units/hrb-701/audit', ADMIN, AuditAnswer, 200);

  const { events } = (await call('POST', FLOWS_ROUTES.lease, FLOWS_ROUTES.lease, flows, LeasedEvents, 200, {})) as {
    events: { seq: number }[];
  };
  const seq = events[0]?.seq ?? 0;
  await call('POST', FLOWS_ROUTES.settle, FLOWS_ROUTES.settle, flows, Settled, 200, {
    settlements: [{ seq, outcome: 'dead-letter', reason: 'refused', target: '12345' }],
  });
  await call('GET', FLOWS_ROUTES.deadLetters, FLOWS_ROUTES.deadLetters, ADMIN, DeadLetters, 200);
  await call('POST', FLOWS_ROUTES.retry, retryPath(seq), dispatcher, Retried, 200);
  await call('POST', FLOWS_ROUTES.status, FLOWS_ROUTES.status, flows, StatusResult, 200, {
    ticketId: id,
    action: 'handle',
    source: '12345',
  });

  // Every alarm, ticket, KPI and flows operation in the document has its answer's schema.
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!/^\/api\/(alarms|tickets|kpis|flows)/.test(path)) continue;
    for (const [method, op] of Object.entries(ops)) {
      const ok = Object.entries(op.responses ?? {}).find(([code]) => code.startsWith('2'));
      assert.ok(ok?.[1].content?.['application/json']?.schema, `${method.toUpperCase()} ${path} documents its answer`);
    }
  }
});
