/**
 * The modem's AT port beyond the basics in serial.test.ts: access technology, registration URCs
 * (27.007 §10.1.22), a reply cut off mid-line, and the Iridium SBD session commands. The
 * satellite suite runs on a scaled clock, so an 8 s SBD session answers in milliseconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardDefinition, openBoard, scaledClock, systemClock } from '../../src/index.ts';
import { until } from '../deadline.ts';

type Link = 'lte' | 'nr' | 'satellite';

async function modemOf(t: import('node:test').TestContext, link: Link, clock = systemClock) {
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: `m-${link}`, site: { lat: 45.75, lon: 126.63 }, scenario: 'harbin-winter', link, clock, seed: 7 },
  });
  t.after(() => b.close());
  let buf = '';
  b.modem.stream.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
  });
  const lines = () => buf.split('\r\n').filter(Boolean);
  /** Sends a command line and resolves with the response lines once a final result code arrives. */
  const ask = async (cmd: string) => {
    buf = '';
    b.modem.stream.write(`${cmd}\r`);
    await until(`a final result code for ${cmd}`, () => lines().some((l) => l === 'OK' || l === 'ERROR'));
    const got = lines();
    buf = '';
    return got;
  };
  /** Waits until what arrived unasked satisfies `ok`, and takes it. */
  const take = async (what: string, ok: (text: string) => boolean) => {
    await until(what, () => ok(buf));
    const got = buf;
    buf = '';
    return got;
  };
  return { b, ask, take };
}

test('NR: COPS reports <AcT> 11, QNWINFO names the 5G band, identity answers', async (t) => {
  const { ask } = await modemOf(t, 'nr');
  assert.deepEqual(await ask('AT+COPS?'), ['+COPS: 0,0,"CHINA MOBILE",11', 'OK']);
  assert.deepEqual(await ask('AT+QNWINFO'), ['+QNWINFO: "TDD NR5G","46000","NR5G BAND 41",504990', 'OK']);
  assert.deepEqual(await ask('AT+CGMI'), ['Quectel', 'OK']);
  assert.match((await ask('AT+CGSN'))[0] ?? '', /^\d{15}$/);
});

test('LTE: CEREG <n>=2 adds tac/ci/AcT; a lost cell raises +CEREG URCs; no service in QNWINFO', async (t) => {
  const { b, ask, take } = await modemOf(t, 'lte');
  assert.deepEqual(await ask('AT+CEREG=2'), ['OK']);
  assert.deepEqual(await ask('AT+CEREG?'), ['+CEREG: 2,1,"5A1F","0B3C4D21",7', 'OK']);
  b.sim?.setSignal(-120);
  const urc = (text: string) => text.endsWith('\r\n') && text.includes('+CEREG');
  assert.equal(await take('the +CEREG URC', urc), '\r\n+CEREG: 2\r\n', 'searching, reported unsolicited');
  assert.deepEqual(await ask('AT+QNWINFO'), ['+QNWINFO: No Service', 'OK']);
  assert.deepEqual(await ask('AT+CSQ'), ['+CSQ: 0,99', 'OK']);
  b.sim?.setSignal(-85);
  assert.equal(await take('the +CEREG URC', urc), '\r\n+CEREG: 1\r\n');
});

test('echo on (V.250 §6.2.4) repeats the command line before the answer', async (t) => {
  const { ask } = await modemOf(t, 'lte');
  assert.deepEqual(await ask('ATE1'), ['OK']);
  // The echo is the line as received, its CR included, ahead of the framed result code.
  assert.deepEqual(await ask('AT'), ['AT\r', 'OK']);
});

test('a truncated answer stops mid-reply; the next command is answered whole', async (t) => {
  const { b, ask, take } = await modemOf(t, 'lte');
  b.sim?.serialTruncate('modem');
  b.modem.stream.write('AT+COPS?\r');
  // The simulator writes an answer in one chunk: once anything has arrived, all of it has.
  const cut = await take('the cut answer', (text) => text.length > 0);
  assert.ok(cut.length > 0 && !cut.includes('OK'), JSON.stringify(cut));
  assert.deepEqual(await ask('AT+CSQ'), ['+CSQ: 17,99', 'OK']);
});

test('satellite: SBD write, session and status; a failed session keeps the message and counts the attempt', async (t) => {
  const { b, ask } = await modemOf(t, 'satellite', scaledClock(1000));
  assert.deepEqual(await ask('AT&K0'), ['OK']);
  assert.deepEqual(await ask('AT+SBDWT=hrb-001 batt 41% alarm tamper'), ['OK']);
  assert.deepEqual(await ask('AT+SBDS'), ['+SBDS: 1, 0, 0, 0', 'OK']);
  assert.deepEqual(await ask('AT+SBDIX'), ['+SBDIX: 0, 0, 0, 0, 0, 0', 'OK']);
  assert.deepEqual(b.sim?.truth().sbd, { momsn: 1, sent: 1, bytesSent: 29 });
  assert.deepEqual(await ask('AT+SBDD0'), ['0', 'OK']);
  assert.deepEqual(await ask(`AT+SBDWT=${'x'.repeat(341)}`), ['ERROR'], 'over the 340-byte MO buffer');
  assert.deepEqual(await ask('AT+SBDWT=second'), ['OK']);
  b.sim?.setSignal(-125);
  assert.deepEqual(await ask('AT+SBDIX'), ['+SBDIX: 32, 1, 0, 0, 0, 0', 'OK'], 'no network service');
  assert.deepEqual(await ask('AT*R0'), ['OK']);
  assert.deepEqual(await ask('AT+SBDIX'), ['+SBDIX: 34, 2, 0, 0, 0, 0', 'OK'], 'radio disabled');
  assert.deepEqual(await ask('AT+SBDS'), ['+SBDS: 1, 3, 0, 0', 'OK']);
  assert.deepEqual(b.sim?.truth().sbd, { momsn: 3, sent: 1, bytesSent: 29 });
  assert.deepEqual(await ask('AT+CEREG?'), ['ERROR'], 'an ISU has no EPS registration');
});
