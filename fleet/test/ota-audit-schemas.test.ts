/**
 * Release and campaign writes are on the audit log (who, what, when, result; refusals included),
 * read per campaign and per release; and every release and campaign answer agrees with the
 * response schema its route declares in the OpenAPI document, unknown fields refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ApiErrorBody, AuditAnswer } from '../src/api/loop-schemas.ts';
import { CampaignList, CampaignView, CampaignWithUnits, ReleaseList, ReleaseView } from '../src/api/ota-schemas.ts';
import { apiClient, startBroker, startTestFleet } from './helpers.ts';
import { release, signer, trustedKeysFile } from './ota-helpers.ts';

const ADMIN = 'ota-audit-admin-token';

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: TSchema }> }> }>> };
type Entry = {
  actor: string;
  role: string;
  action: string;
  result: string;
  campaignId: string | null;
  release: string | null;
  message: string | null;
};

test('publishes and campaign moves are audited per campaign and per release, and answer what their schemas say', async (t) => {
  const key = signer('k2026');
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, {
    auth: { bootstrapAdminToken: ADMIN },
    ota: { trustedKeysFile: await trustedKeysFile(t, [key]), timerPollS: 3600, answerS: 1 },
  });
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const maintainer = await token('maintainer', 'Maintainer Li');
  const commander = await token('commander', 'Commander Zhao');
  assert.equal((await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-801', board: 'pi4' })).status, 201);
  const doc = (await api('GET', '/api/openapi.json', null)).body as Doc;

  const call = async (method: 'GET' | 'POST', route: string, url: string, who: string, schema: TSchema, status: number, body?: unknown) => {
    const r = await api(method, url, who, body);
    assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.deepEqual(
      [...Value.Errors(schema, r.body)].map((e) => `${e.path}: ${e.message}`),
      [],
      `${method} ${url} answers what its schema says`,
    );
    const key = status < 400 ? String(status) : '4XX';
    const listed =
      doc.paths[route.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.responses?.[key]?.content?.['application/json']?.schema;
    assert.ok(listed, `${method} ${route} lists a ${key} schema`);
    assert.deepEqual(Object.keys(listed.properties ?? {}).sort(), Object.keys(schema.properties ?? {}).sort(), `${method} ${route}`);
    return r.body;
  };

  const r = release(key, '1.1.0', ['1.0.0']);
  await call('POST', '/api/ota/releases', '/api/ota/releases', commander, ApiErrorBody, 403, r.publish);
  await call('POST', '/api/ota/releases', '/api/ota/releases', maintainer, ReleaseView, 201, r.publish);
  await call('POST', '/api/ota/releases', '/api/ota/releases', maintainer, ApiErrorBody, 409, r.publish);
  await call('GET', '/api/ota/releases', '/api/ota/releases', commander, ReleaseList, 200);
  await call('GET', '/api/ota/releases/:version', '/api/ota/releases/1.1.0', commander, ReleaseView, 200);
  await call('GET', '/api/ota/releases/:version', '/api/ota/releases/9.9.9', commander, ApiErrorBody, 404);

  const draft = { name: 'patch 1.1.0', version: '1.1.0', target: { units: ['hrb-801'] } };
  const c = (await call('POST', '/api/ota/campaigns', '/api/ota/campaigns', maintainer, CampaignView, 201, draft)) as { id: string };
  const move = (m: string, who: string, schema: TSchema, status: number, body?: unknown) =>
    call('POST', `/api/ota/campaigns/:id/${m}`, `/api/ota/campaigns/${c.id}/${m}`, who, schema, status, body);
  await move('start', maintainer, CampaignView, 200);
  await move('pause', commander, ApiErrorBody, 403);
  await move('pause', maintainer, ApiErrorBody, 400, { reason: 'x'.repeat(301) });
  const paused = (await move('pause', maintainer, CampaignView, 200, { reason: 'hrb-801 reboots after the switch' })) as {
    pause: unknown;
    pauseReason: string;
  };
  assert.deepEqual(paused.pause, { by: 'person', who: 'Maintainer Li', role: 'maintainer', reason: 'hrb-801 reboots after the switch' });
  assert.equal(paused.pauseReason, 'paused by Maintainer Li (maintainer): hrb-801 reboots after the switch');
  await move('pause', maintainer, ApiErrorBody, 409);
  await move('resume', maintainer, CampaignView, 200);
  await move('abort', maintainer, CampaignView, 200, { reason: 'superseded by 1.1.1' });
  await call('GET', '/api/ota/campaigns', '/api/ota/campaigns', commander, CampaignList, 200);
  await call('GET', '/api/ota/campaigns/:id', `/api/ota/campaigns/${c.id}`, commander, CampaignWithUnits, 200);

  const byCampaign = (await call(
    'GET',
    '/api/ota/campaigns/:id/audit',
    `/api/ota/campaigns/${c.id}/audit`,
    commander,
    AuditAnswer,
    200,
  )) as { entries: Entry[] };
  assert.deepEqual(
    byCampaign.entries.map((e) => [e.actor, e.role, e.action, e.result, e.campaignId, e.release, e.message]),
    [
      ['Maintainer Li', 'maintainer', 'abort-campaign', 'ok', c.id, '1.1.0', 'superseded by 1.1.1'],
      ['Maintainer Li', 'maintainer', 'resume-campaign', 'ok', c.id, '1.1.0', null],
      ['Maintainer Li', 'maintainer', 'pause-campaign', 'CONFLICT', c.id, null, 'a paused campaign cannot pause'],
      ['Maintainer Li', 'maintainer', 'pause-campaign', 'ok', c.id, '1.1.0', 'hrb-801 reboots after the switch'],
      ['Maintainer Li', 'maintainer', 'pause-campaign', 'BAD_REQUEST', c.id, null, 'body/reason must NOT have more than 300 characters'],
      ['Commander Zhao', 'commander', 'pause-campaign', 'FORBIDDEN', c.id, null, 'role commander may not manage-updates'],
      ['Maintainer Li', 'maintainer', 'start-campaign', 'ok', c.id, '1.1.0', null],
      ['Maintainer Li', 'maintainer', 'create-campaign', 'ok', c.id, '1.1.0', null],
    ],
    'newest first, each with its reason or its refusal',
  );
  // The history reads as the campaign does: every role that reads campaigns, nobody else.
  const operator = await token('department-operator', 'Operator Wang');
  const flows = await token('flows', 'Node-RED');
  for (const [who, status] of [
    [operator, 200],
    [flows, 403],
    [null, 401],
  ] as const) {
    for (const url of [`/api/ota/campaigns/${c.id}`, `/api/ota/campaigns/${c.id}/audit`])
      assert.equal(
        (await api('GET', url, who)).status,
        status,
        `${url} for ${who === null ? 'no token' : who === flows ? 'flows' : 'operator'}`,
      );
  }
  const byRelease = (await call(
    'GET',
    '/api/ota/releases/:version/audit',
    '/api/ota/releases/1.1.0/audit',
    commander,
    AuditAnswer,
    200,
  )) as { entries: Entry[] };
  assert.deepEqual(
    byRelease.entries.filter((e) => e.action === 'publish-release').map((e) => [e.actor, e.result]),
    [
      ['Maintainer Li', 'RELEASE_EXISTS'],
      ['Maintainer Li', 'ok'],
    ],
    'every publish of the version, refusals included (a role refusal comes before the body is read: it names no release)',
  );
  assert.equal(byRelease.entries.filter((e) => e.action.endsWith('-campaign')).length, 5, 'and the campaign writes that named it');
});
