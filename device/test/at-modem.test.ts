/**
 * The AT driver against a scripted DCE on the other end of an in-memory duplex pair. Timeouts run
 * on node:test mock timers, never on the wall clock.
 */
import assert from 'node:assert/strict';
import { type Duplex, duplexPair } from 'node:stream';
import { test } from 'node:test';
import { systemClock } from '@shouwang/hardware';
import { AtError, AtModem } from '../src/drivers/at-modem.ts';
import { cellularBars, parseCereg, parseCops, parseCsq, parseSatelliteCsq } from '../src/drivers/at-parse.ts';
import { readLink } from '../src/drivers/link-reader.ts';

/** A modem stand-in: answers each command line with what `reply` returns (nothing = silence). */
function dce(reply: (cmd: string, n: number) => string | undefined): { dte: Duplex; dceSide: Duplex; seen: string[] } {
  const [dte, dceSide] = duplexPair();
  const seen: string[] = [];
  let buf = '';
  dceSide.on('data', (c: Buffer) => {
    buf += c.toString();
    let i = buf.indexOf('\r');
    while (i >= 0) {
      const cmd = buf.slice(0, i);
      buf = buf.slice(i + 1);
      seen.push(cmd);
      const r = reply(cmd, seen.length);
      if (r !== undefined) dceSide.write(r);
      i = buf.indexOf('\r');
    }
  });
  return { dte, dceSide, seen };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('27.007 parsers read the standard forms and refuse the rest', () => {
  assert.deepEqual(parseCsq('+CSQ: 20,99'), { rssiDbm: -73 });
  assert.deepEqual(parseCsq('+CSQ: 0,0'), { rssiDbm: -113 });
  assert.equal(parseCsq('+CSQ: 99,99'), undefined);
  assert.equal(parseCsq('+CSQ: abc'), undefined);
  assert.deepEqual(parseCereg('+CEREG: 2,5,"1A2B","01A2B3C4",7', 'read'), { registered: true, stat: 5 });
  assert.deepEqual(parseCereg('+CEREG: 2', 'urc'), { registered: false, stat: 2 });
  assert.deepEqual(parseCops('+COPS: 0,0,"CHINA MOBILE",7'), { operator: 'CHINA MOBILE', type: 'lte' });
  assert.deepEqual(parseCops('+COPS: 0,0,"CHN-UNICOM",12'), { operator: 'CHN-UNICOM', type: 'nr' });
  assert.deepEqual(parseCops('+COPS: 0'), { type: 'none' });
  assert.deepEqual(parseSatelliteCsq('+CSQ:4'), { bars: 4 });
  assert.equal(parseSatelliteCsq('+CSQ:9'), undefined);
  assert.equal(cellularBars(-73), 5);
  assert.equal(cellularBars(-113), 0);
});

test('one command in flight: the second waits for the first final result', async (t) => {
  const { dte, seen, dceSide } = dce(() => undefined);
  const modem = new AtModem(dte, { clock: systemClock });
  t.after(() => modem.close());
  const a = modem.send('AT+CSQ');
  const b = modem.send('AT+COPS?');
  await tick();
  assert.deepEqual(seen, ['AT+CSQ']);
  dceSide.write('AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n');
  assert.deepEqual(await a, ['+CSQ: 17,99']);
  await tick();
  assert.deepEqual(seen, ['AT+CSQ', 'AT+COPS?']);
  dceSide.write('\r\n+COPS: 0,0,"CMCC",7\r\nOK\r\n');
  assert.deepEqual(await b, ['+COPS: 0,0,"CMCC",7']);
});

test('a silent modem times out after the retries; the queue moves on', async (t) => {
  // Date too: what the timed-out attempts still owe lapses one timeout after each (the driver's clock reads it).
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  let answer = false;
  const { dte, seen } = dce((cmd) => (answer && cmd === 'ATI' ? 'Quectel\r\nEG25\r\nOK\r\n' : undefined));
  const modem = new AtModem(dte, { clock: systemClock, timeoutMs: 1000, retries: 2 });
  t.after(() => modem.close());
  const lost = modem.send('AT+CSQ');
  const next = modem.send('ATI');
  const rejected = assert.rejects(lost, (e: unknown) => e instanceof AtError && e.code === 'timeout');
  for (let i = 0; i < 3; i++) {
    await tick();
    t.mock.timers.tick(1000);
  }
  await rejected;
  assert.deepEqual(seen.slice(0, 3), ['AT+CSQ', 'AT+CSQ', 'AT+CSQ']);
  assert.equal(modem.dropped.get('timeout'), 3);
  answer = true;
  await tick();
  // ATI went out before `answer` flipped; resend by timing out once more.
  t.mock.timers.tick(1000);
  assert.deepEqual(await next, ['Quectel', 'EG25']);
});

test('URCs are told apart from answers; garbage and stray text are counted, never thrown', async (t) => {
  const { dte, dceSide } = dce((cmd) =>
    cmd === 'AT+CSQ' ? '\xff\xfe\x00+CEREG: 5\r\n+CSQ: 25,99\r\nRING\r\n\x01\x02OK\r\n' : cmd === 'AT+X' ? '+CME ERROR: 4\r\n' : undefined,
  );
  const modem = new AtModem(dte, { clock: systemClock });
  t.after(() => modem.close());
  const urcs: string[] = [];
  modem.on('urc', (u) => urcs.push(u));
  assert.deepEqual(await modem.send('AT+CSQ'), ['+CSQ: 25,99']);
  await assert.rejects(modem.send('AT+X'), (e: unknown) => e instanceof AtError && e.code === 'error' && /CME ERROR: 4/.test(e.message));
  dceSide.write('+QIURC: "pdpdeact",1\r\nhello?\r\n');
  await tick();
  assert.deepEqual(urcs, ['+CEREG: 5', '+QIURC: "pdpdeact",1']);
  // \xff\xfe go out as UTF-8 (two bytes each), then \x00, \x01, \x02: seven bytes of noise.
  assert.equal(modem.dropped.get('garbage'), 7);
  // RING outside its command is stray text: counted under `unexpected` with the lone `hello?`.
  assert.equal(modem.dropped.get('unexpected'), 2);
  assert.deepEqual(await modem.send('AT+CSQ'), ['+CSQ: 25,99']);
});

test('readLink: cellular profile from +CSQ/+CEREG/+COPS; satellite from Iridium bars', async (t) => {
  const cell = dce(
    (cmd) =>
      ({
        'AT+CSQ': '+CSQ: 22,99\r\nOK\r\n',
        'AT+CEREG?': '+CEREG: 0,1\r\nOK\r\n',
        'AT+COPS?': '+COPS: 0,0,"CHINA MOBILE",13\r\nOK\r\n',
      })[cmd],
  );
  const m1 = new AtModem(cell.dte, { clock: systemClock });
  t.after(() => m1.close());
  assert.deepEqual(await readLink(m1, 'cellular'), { type: 'nr', rssiDbm: -69, bars: 5, registered: true, operator: 'CHINA MOBILE' });

  const sat = dce((cmd) => ({ 'AT+CSQ': '+CSQ:3\r\nOK\r\n', 'AT+CREG?': '+CREG:000,001\r\nOK\r\n' })[cmd]);
  const m2 = new AtModem(sat.dte, { clock: systemClock });
  t.after(() => m2.close());
  assert.deepEqual(await readLink(m2, 'satellite'), { type: 'satellite', bars: 3, rssiDbm: -114, registered: true });
});
