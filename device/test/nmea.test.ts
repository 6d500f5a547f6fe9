/**
 * The NMEA driver against real receiver logs, with gpsd's own decodes (`.chk`) as the oracle.
 * Vocabulary: a TPV line in a .chk is gpsd's fix after the sentences echoed above it; we feed
 * the same sentences and compare our current fix (time of day, lat, lon, mode) at each TPV.
 * gpsd's dates are not compared: its GPS-week rollover guesses (e.g. 2034 in neo-m8n) are its own.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { systemClock } from '@shouwang/hardware';
import { checksumOk, NmeaReceiver } from '../src/drivers/nmea.ts';

// The recorded logs live beside the repository (not in it: gpsd's licence); a worktree elsewhere points at them by env.
const DIR = process.env.SHOUWANG_GPSD_LOGS
  ? pathToFileURL(`${process.env.SHOUWANG_GPSD_LOGS}/`)
  : new URL('../../../shared/testdata/gpsd-nmea/', import.meta.url);
const logs = readdirSync(DIR).filter((f) => f.endsWith('.log'));
const MODE = { none: 1, '2d': 2, '3d': 3 } as const;

interface Tpv {
  mode?: number;
  time?: string;
  lat?: number;
  lon?: number;
}

function logBody(name: string): string {
  return readFileSync(new URL(name, DIR), 'latin1')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

test('the gpsd logs are all here', () => {
  assert.equal(logs.length, 12);
});

for (const name of logs) {
  test(`${name}: every fix gpsd reports, we report the same`, () => {
    const rx = new NmeaReceiver();
    let compared = 0;
    const mismatches: string[] = [];
    for (const line of readFileSync(new URL(`${name}.chk`, DIR), 'latin1').split('\n')) {
      if (line.startsWith('$')) {
        rx.push(`${line.trimEnd()}\r\n`);
        continue;
      }
      if (!line.startsWith('{')) continue;
      const j = JSON.parse(line) as Tpv & { class: string };
      if (j.class !== 'TPV') continue;
      const ours = rx.current();
      if (!ours) {
        // gpsd may speak before any position (time only, or mode 1); so may we, by staying silent.
        assert.ok(j.lat === undefined, `gpsd has a position we lack: ${line}`);
        continue;
      }
      compared++;
      if (j.mode !== undefined && MODE[ours.fix] !== j.mode) mismatches.push(`mode ${ours.fix} vs ${line}`);
      if (j.lat !== undefined && j.lon !== undefined) {
        // 1e-7° ≈ 1 cm: gpsd prints nine decimals; the receivers give at most eight of minutes.
        if (Math.abs(ours.lat - j.lat) > 1e-7 || Math.abs(ours.lon - j.lon) > 1e-7)
          mismatches.push(`pos ${JSON.stringify(ours)} vs ${line}`);
      }
      if (j.time !== undefined && ours.ts !== undefined && new Date(ours.ts).toISOString().slice(11) !== j.time.slice(11)) {
        mismatches.push(`time ${new Date(ours.ts).toISOString()} vs ${j.time}`);
      }
    }
    assert.ok(compared > 0, 'compared at least one fix');
    assert.deepEqual(mismatches, []);
  });

  test(`${name}: the raw log parses with every bad line counted`, () => {
    const rx = new NmeaReceiver();
    // Split writes at gpsfake's delay cookies, as the packetizer would see them.
    for (const part of logBody(name).split('|')) rx.push(part);
    assert.ok(rx.sentences > 0);
    // tcp-torture.log opens with the tail of a sentence cut off by the capture: the one bad line in these logs.
    // beidou-bd.log has one line of receiver noise glued before a `$`.
    const expectedBad = name === 'tcp-torture.log' || name === 'beidou-bd.log' ? 1 : 0;
    assert.equal(rx.dropped.total(), expectedBad, JSON.stringify(rx.dropped.snapshot()));
  });
}

test('nmea-fuzzy-cases.log: high-precision minutes keep eight decimals', () => {
  const rx = new NmeaReceiver();
  rx.push(logBody('nmea-fuzzy-cases.log'));
  assert.equal(rx.sentences, 28);
  const fix = rx.current();
  assert.ok(fix);
  assert.equal(fix.fix, '3d');
  assert.ok(Math.abs(fix.lat - (41 + 34.50180291 / 60)) < 1e-9);
  assert.ok(Math.abs(fix.lon + (93 + 45.03586858 / 60)) < 1e-9);
});

test('garbage, corrupted checksums and endless lines are counted by reason and never throw', () => {
  const rx = new NmeaReceiver();
  const good = '$GPRMC,193221.00,A,2037.7279,N,08704.0848,W,00.1,201.8,231207,01,W,A*2D\r\n';
  assert.ok(checksumOk(good.trim()));
  let fixes = 0;
  rx.on('fix', () => fixes++);
  let seed = 7;
  const noise = Buffer.from(
    Buffer.alloc(5000, 0).map(() => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    }),
  );
  rx.push(noise);
  rx.push('\n');
  rx.push(good.replace('*2D', '*2E'));
  rx.push(good.replace('2037.7279', '2037.7278'));
  rx.push(`$GPGGA,${'9'.repeat(200)}*00\r\n`);
  rx.push('$GPRMC,193221.00,A,XXXX,N,08704.0848,W,00.1,201.8,231207,01,W,A*');
  rx.push(`${xorHex('GPRMC,193221.00,A,XXXX,N,08704.0848,W,00.1,201.8,231207,01,W,A')}\r\n`);
  rx.push(good);
  assert.equal(fixes, 1, 'the one good sentence still yields a fix');
  assert.ok(rx.dropped.get('checksum') >= 2);
  assert.ok(rx.dropped.get('too-long') >= 1);
  assert.ok(rx.dropped.get('framing') + rx.dropped.get('too-long') >= 1);
  assert.equal(rx.current()?.fix, '2d');
});

function xorHex(body: string): string {
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

const nmea = (body: string) => `$${body}*${xorHex(body)}\r\n`;

test('a fix regained after a loss takes its mode from its own epoch, not from the lost fix’s altitude', () => {
  const rx = new NmeaReceiver();
  rx.push(nmea('GPRMC,120000.00,A,4545.0000,N,12637.8000,E,0.0,,011226,,,A'));
  rx.push(nmea('GPGGA,120000.00,4545.0000,N,12637.8000,E,1,09,0.9,142.0,M,-8.0,M,,'));
  rx.push(nmea('GPGSA,A,3,02,05,07,09,13,15,18,20,23,,,,1.4,0.9,1.1'));
  assert.equal(rx.current()?.fix, '3d');
  // Lost: this receiver says so in RMC and GGA and sends no GSA without a fix.
  rx.push(nmea('GPRMC,120001.00,V,,,,,,,011226,,,N'));
  rx.push(nmea('GPGGA,120001.00,,,,,0,00,,,M,,M,,'));
  assert.equal(rx.current()?.fix, 'none');
  // Regained as a 2D fix: RMC first (the agent reports on it at once), then GGA without altitude, then GSA 2.
  rx.push(nmea('GPRMC,120002.00,A,4545.0010,N,12637.8010,E,0.0,,011226,,,A'));
  assert.equal(rx.current()?.fix, '2d', 'on the epoch’s first sentence');
  rx.push(nmea('GPGGA,120002.00,4545.0010,N,12637.8010,E,1,04,2.1,,M,,M,,'));
  rx.push(nmea('GPGSA,A,2,02,05,07,09,,,,,,,,,2.3,2.1,0.9'));
  assert.equal(rx.current()?.fix, '2d', 'as the receiver’s GSA says');
});

test('a fix ages out: once the receiver says nothing for staleAfterMs there is no current position', () => {
  let now = 1_000_000;
  const clock = { ...systemClock, now: () => now };
  const rx = new NmeaReceiver({ clock, staleAfterMs: 5000 });
  rx.push(nmea('GPRMC,120000.00,A,4545.0000,N,12637.8000,E,0.0,,011226,,,A'));
  rx.push(nmea('GPGGA,120000.00,4545.0000,N,12637.8000,E,1,09,0.9,142.0,M,-8.0,M,,'));
  now += 5000;
  assert.equal(rx.current()?.fix, '3d', 'still current at the limit');
  now += 1;
  assert.equal(rx.current(), undefined, 'stale one millisecond later');
  rx.push(nmea('GPGSV,1,1,00'));
  assert.equal(rx.current()?.fix, '3d', 'the receiver talks again: its last solution is current again');
  assert.equal(rx.satellitesInView, 0);
});
