/**
 * The AT driver and the link poll on the simulator's modem line, under the quirks real modems
 * have: answers just past the timeout, stray complete responses before an answer, answers
 * without their information line. Vocabulary: a "poll" is one readLink (AT+CSQ, AT+CEREG?,
 * AT+COPS? on cellular; AT+CSQ, AT+CREG? on satellite). Driver timeouts are short (200 ms) so a
 * late answer costs this test milliseconds; the simulator's clock is the wall clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardDefinition, openBoard, systemClock } from '@shouwang/hardware';
import { AtModem } from '../src/drivers/at-modem.ts';
import { readLink } from '../src/drivers/link-reader.ts';

async function modemOn(t: import('node:test').TestContext, link: 'lte' | 'satellite') {
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: `q-${link}`, site: { lat: 45.75, lon: 126.63 }, scenario: 'harbin-winter', link, clock: systemClock, seed: 3 },
  });
  const modem = new AtModem(b.modem.stream, { clock: systemClock, timeoutMs: 200 });
  t.after(async () => {
    modem.close();
    await b.close();
  });
  return { sim: b.sim, modem };
}

const TRUTH = { type: 'lte', rssiDbm: -79, bars: 4, registered: true, operator: 'CHINA MOBILE' };

test('a modem answering just past the timeout: each late answer is discarded, none is taken by the next command', async (t) => {
  const { sim, modem } = await modemOn(t, 'lte');
  sim.modemDelay(260);
  for (let poll = 0; poll < 3; poll++) assert.deepEqual(await readLink(modem, 'cellular'), TRUTH, `poll ${poll}`);
  assert.ok(modem.dropped.get('late') >= 2, JSON.stringify(modem.dropped.snapshot()));
});

test('stray complete responses before the registration answer (a URC, an echo, a leftover answer) never flip registration', async (t) => {
  const { sim, modem } = await modemOn(t, 'lte');
  for (let poll = 0; poll < 3; poll++) {
    sim.modemStray('AT+CEREG?', '\r\n+CEREG: 2\r\nAT+CSQ\r\r\n+CSQ: 5,99\r\n\r\nOK\r\n\r\n+COPS: 0\r\n\r\nOK\r\n');
    assert.deepEqual(await readLink(modem, 'cellular'), TRUTH, `poll ${poll}`);
  }
  assert.equal(modem.dropped.get('late'), 6, 'the two stray final results of each poll');
});

test('a missing or unreadable answer is unknown and counted as unparsable, never −150 dBm or 0 bars', async (t) => {
  const { sim, modem } = await modemOn(t, 'lte');
  sim.modemBare('AT+CSQ', true);
  const r = await readLink(modem, 'cellular');
  assert.deepEqual(r, { type: 'lte', registered: true, operator: 'CHINA MOBILE' });
  assert.equal(modem.dropped.get('unparsable'), 1);
  sim.modemBare('AT+CSQ', false);
  assert.deepEqual(await readLink(modem, 'cellular'), TRUTH, 'answered whole again');
});

test('satellite: a registration query answered without its +CREG line is unknown, not registered', async (t) => {
  const { sim, modem } = await modemOn(t, 'satellite');
  assert.deepEqual(await readLink(modem, 'satellite'), { type: 'satellite', bars: 4, rssiDbm: -112, registered: true });
  sim.modemBare('AT+CREG?', true);
  assert.deepEqual(await readLink(modem, 'satellite'), { type: 'satellite', bars: 4, rssiDbm: -112 });
  assert.equal(modem.dropped.get('unparsable'), 1);
});
