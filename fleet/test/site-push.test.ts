/**
 * The deployment site travels from the registry to the unit: at the claim (with the site given on
 * site, or the one registered beforehand) and whenever a claimed unit's site changes, as a
 * config-set of site.lat/site.lon on the unit's request topic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, encodeResponse, filters, parseTopic, topics } from '@shouwang/protocol';
import { startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

test('claiming a unit with a site, and moving it later, tells the unit its geofence centre', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, 'hrb-201');
  const sets: Record<string, unknown>[] = [];
  unit.on('message', (topic, bytes) => {
    const p = parseTopic(topic);
    if (!p.ok || p.value.type !== 'request' || p.value.command !== 'config-set') return;
    const req = decodeRequest('config-set', bytes);
    assert.ok(req.ok);
    sets.push(req.value.args.config);
    const res = encodeResponse('config-set', {
      id: req.value.id,
      status: 'ok',
      data: { applied: ['site.lat', 'site.lon'], restartRequired: false },
    });
    unit.publish(topics.response('hrb-201', 'config-set'), Buffer.from(res), { qos: 1 });
  });
  await unit.subscribeAsync(filters.unitRequests('hrb-201'), { qos: 1 });

  const { claimCode } = await fleet.registry.register('hrb-201', {});
  await fleet.registry.claim(claimCode, { site: { name: 'Daoli flood wall', lat: 45.7792, lon: 126.6183 } });
  await waitFor(() => sets.length === 1);
  assert.deepEqual(sets[0], { 'site.lat': 45.7792, 'site.lon': 126.6183 });
  await fleet.registry.update('hrb-201', { site: { name: 'Songbei', lat: 45.8123, lon: 126.5501 } });
  await waitFor(() => sets.length === 2);
  assert.deepEqual(sets[1], { 'site.lat': 45.8123, 'site.lon': 126.5501 });
  await fleet.registry.update('hrb-201', { tags: ['river'] });
  assert.equal(sets.length, 2, 'no site in the change, nothing sent');
});
