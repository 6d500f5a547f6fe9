/**
 * Power and location history read from a real influxd, as the gateway writes it: measurements
 * `power` and `location`, tag `unit`, the protocol's field names, event time in ms. Oldest first,
 * bounded by the window and the limit (for a track, the newest positions), other units' points
 * never mixed in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startInfluxd } from '@shouwang/testkit';
import { InfluxPowerHistory } from '../src/storage/influx-history.ts';

test('power history from InfluxDB: window, order, limit, one unit only', async (t) => {
  const influx = await startInfluxd((fn) => t.after(fn));
  const h = new InfluxPowerHistory(influx.url, 'shouwang');
  assert.deepEqual(await h.powerHistory('hrb-001', 0, Date.now(), 10), [], 'before the gateway wrote anything: no history, no error');
  await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE shouwang')}`, { method: 'POST' });
  const t0 = 1_763_856_000_000;
  // Written out of order, as a back-filled burst arrives; one reading for a unit with a quote in no id.
  const lines = [3, 1, 2, 0, 4].map(
    (i) => `power,unit=hrb-001 seq=${i}i,soc=${60 - i},batteryV=13.${i},solarW=${10 + i},windW=1.5,loadW=6,state="full" ${t0 + i * 60_000}`,
  );
  lines.push(`power,unit=hrb-002 seq=9i,soc=10,batteryV=12,solarW=0,windW=0,loadW=3,state="deep-sleep" ${t0 + 60_000}`);
  const w = await fetch(`${influx.url}/write?db=shouwang&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(w.status, 204, await w.text());

  const all = await h.powerHistory('hrb-001', t0, t0 + 10 * 60_000, 100);
  assert.deepEqual(
    all.map((r) => [r.ts - t0, r.soc]),
    [0, 1, 2, 3, 4].map((i) => [i * 60_000, 60 - i]),
  );
  assert.deepEqual(all[1], {
    unit_id: 'hrb-001',
    ts: t0 + 60_000,
    soc: 59,
    battery_v: 13.1,
    solar_w: 11,
    wind_w: 1.5,
    load_w: 6,
    state: 'full',
  });
  const window = await h.powerHistory('hrb-001', t0 + 60_000, t0 + 3 * 60_000, 2);
  assert.deepEqual(
    window.map((r) => r.ts - t0),
    [60_000, 120_000],
  );
  assert.deepEqual(
    await h.powerHistory("hrb-001' OR unit='hrb-002", t0, t0 + 10 * 60_000, 100),
    [],
    'the unit id is a value, never query text',
  );
});

test('a track from InfluxDB: positions with a fix, the newest within the limit, oldest first', async (t) => {
  const influx = await startInfluxd((fn) => t.after(fn));
  const h = new InfluxPowerHistory(influx.url, 'shouwang');
  assert.deepEqual(await h.locationHistory('hrb-001', 0, Date.now(), 10), [], 'no database yet: no track, no error');
  await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE shouwang')}`, { method: 'POST' });
  const t0 = 1_763_856_000_000;
  const lines = [
    ...[2, 0, 1, 3].map((i) => `location,unit=hrb-001 seq=${i}i,lat=45.7${i},lon=126.6${i},fix="3d",sats=9i ${t0 + i * 60_000}`),
    // No fix: no coordinates, no point of the track.
    `location,unit=hrb-001 seq=4i,fix="none",sats=0i ${t0 + 4 * 60_000}`,
    `location,unit=hrb-002 seq=9i,lat=45.1,lon=126.1,fix="3d",sats=9i ${t0 + 60_000}`,
  ];
  const w = await fetch(`${influx.url}/write?db=shouwang&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(w.status, 204, await w.text());
  assert.deepEqual(
    (await h.locationHistory('hrb-001', t0, t0 + 10 * 60_000, 100)).map((r) => [r.ts - t0, r.lat, r.lon]),
    [0, 1, 2, 3].map((i) => [i * 60_000, Number(`45.7${i}`), Number(`126.6${i}`)]),
  );
  assert.deepEqual(
    (await h.locationHistory('hrb-001', t0, t0 + 10 * 60_000, 2)).map((r) => r.ts - t0),
    [120_000, 180_000],
  );
});
