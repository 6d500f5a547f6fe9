import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { test } from 'node:test';
import { boardDefinition, openBoard, systemClock } from '../../src/index.ts';
import { until } from '../deadline.ts';

/** A simulated board whose uplink leads, through the shaper, to an echo server on loopback. */
async function shapedToEcho(t: import('node:test').TestContext, link: 'lte' | 'nr') {
  const echo = createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: `up-${link}`, site: { lat: 45.75, lon: 126.6 }, scenario: 'harbin-winter', link, clock: systemClock, seed: 4 },
  });
  t.after(() => b.close());
  const path = await b.uplink({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
  return { b, path };
}

test('the shaped uplink forwards bytes both ways, counts them, and is dead during an outage', async (t) => {
  const { b, path } = await shapedToEcho(t, 'nr');

  const s = connect(path.port, path.host);
  await once(s, 'connect');
  s.write('hello');
  const [back] = (await once(s, 'data')) as [Buffer];
  assert.equal(back.toString(), 'hello');
  assert.deepEqual([b.sim?.truth().bytesUp, b.sim?.truth().bytesDown], [5, 5]);

  b.sim?.linkOutage(300);
  await once(s, 'close');
  assert.equal(b.sim?.truth().linkDown, true);
  const refused = connect(path.port, path.host);
  await once(refused, 'close');
  await until('the outage ends', () => b.sim?.truth().linkDown === false);
  const again = connect(path.port, path.host);
  await once(again, 'connect');
  again.write('back');
  assert.equal(((await once(again, 'data')) as [Buffer])[0].toString(), 'back');
  again.destroy();
});

test('the data path follows the modem: radio off (AT+CFUN=4) or no signal drops and refuses it; radio on restores it', async (t) => {
  const { b, path } = await shapedToEcho(t, 'lte');
  const open = connect(path.port, path.host);
  await once(open, 'connect');
  b.modem.stream.write('AT+CFUN=4\r');
  await once(open, 'close');
  assert.equal(b.sim?.truth().linkDown, true);
  const refused = connect(path.port, path.host);
  await once(refused, 'close');
  b.modem.stream.write('AT+CFUN=1\r');
  await once(b.modem.stream, 'data');
  const back = connect(path.port, path.host);
  await once(back, 'connect');
  back.write('up');
  assert.equal(((await once(back, 'data')) as [Buffer])[0].toString(), 'up');
  b.sim?.setSignal(-125);
  await once(back, 'close');
  assert.equal(b.sim?.truth().modem.registered, false);
});
