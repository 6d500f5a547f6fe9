/**
 * Contract of the serial seams, run against the simulator (and, on a unit, against the real
 * receiver and modem): what the device's drivers may rely on.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { parseNmeaSentence } from 'nmea-simple';
import { boardDefinition, openBoard, systemClock } from '../../src/index.ts';
import { deadline } from '../deadline.ts';

async function simBoard(t: import('node:test').TestContext, link: 'lte' | 'satellite' = 'lte') {
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: 'hrb-001', site: { lat: 45.7792, lon: 126.6183 }, scenario: 'harbin-winter', link, clock: systemClock, seed: 1 },
  });
  t.after(() => b.close());
  return b;
}

function lines(stream: NodeJS.ReadableStream, n: number): Promise<string[]> {
  const got = new Promise<string[]>((resolve) => {
    let buf = '';
    const on = (d: Buffer) => {
      buf += d.toString('latin1');
      const ls = buf.split('\r\n').filter(Boolean);
      if (ls.length >= n) {
        stream.off('data', on);
        resolve(ls.slice(0, n));
      }
    };
    stream.on('data', on);
  });
  return deadline(`${n} lines on the serial line`, got);
}

test('GPS: NMEA 0183 sentences with valid checksums, a 3D fix within metres of the site', async (t) => {
  const b = await simBoard(t);
  const got = await lines(b.gps.stream, 5);
  const ids = got.map((l) => parseNmeaSentence(l).sentenceId);
  assert.deepEqual(ids, ['RMC', 'GGA', 'GSA', 'VTG', 'GSV']);
  const gga = parseNmeaSentence(got[1] as string) as { latitude: number; longitude: number; fixType: string; satellitesInView: number };
  assert.equal(gga.fixType, 'fix');
  assert.ok(Math.abs(gga.latitude - 45.7792) < 5e-5 && Math.abs(gga.longitude - 126.6183) < 5e-5);
});

test('GPS: injected garbage arrives on the wire before the next epoch', async (t) => {
  const b = await simBoard(t);
  b.sim?.serialGarbage('gps', '\u0000\u00ff$GPGGA,garbage*00\r\n');
  const got = await lines(b.gps.stream, 2);
  assert.match(got[0] ?? '', /garbage/);
});

test('modem: 27.007 answers for signal, registration and operator; silence when faulted', async (t) => {
  const b = await simBoard(t);
  const ask = async (cmd: string, n = 2) => {
    const p = lines(b.modem.stream, n);
    b.modem.stream.write(`${cmd}\r`);
    return p;
  };
  assert.deepEqual(await ask('AT+CSQ'), ['+CSQ: 17,99', 'OK']);
  assert.deepEqual(await ask('AT+CEREG?'), ['+CEREG: 0,1', 'OK']);
  assert.deepEqual(await ask('AT+COPS?'), ['+COPS: 0,0,"CHINA MOBILE",7', 'OK']);
  assert.deepEqual(await ask('AT+CFUN=4', 1), ['OK']);
  assert.deepEqual(await ask('AT+CSQ'), ['+CSQ: 99,99', 'OK']);
  assert.deepEqual(await ask('AT+BOGUS', 1), ['ERROR']);
  b.sim?.modemSilent(true);
  b.modem.stream.write('AT\r');
  // Silence is an absence: it can only be watched for a while (a real module answers AT in well under 200 ms).
  const silence = await Promise.race([
    once(b.modem.stream, 'data').then(() => 'answered'),
    new Promise((r) => setTimeout(() => r('silent'), 200)),
  ]);
  assert.equal(silence, 'silent');
});

test('satellite modem: Iridium-style +CSQ bars', async (t) => {
  const b = await simBoard(t, 'satellite');
  const p = lines(b.modem.stream, 2);
  b.modem.stream.write('AT+CSQ\r');
  assert.match((await p)[0] ?? '', /^\+CSQ:[0-5]$/);
});
