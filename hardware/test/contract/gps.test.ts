/**
 * NMEA contract of the GPS SerialLink: what the device's parser may rely on, over several epochs,
 * with and without a fix. Runs against the simulator here (on a 50× clock: an epoch every 20 ms)
 * and against a receiver on a unit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNmeaSentence } from 'nmea-simple';
import { boardDefinition, openBoard, scaledClock } from '../../src/index.ts';
import { deadline } from '../deadline.ts';

const SITE = { lat: 45.7792, lon: 126.6183 };

async function epochs(
  t: import('node:test').TestContext,
  n: number,
  before?: (sim: NonNullable<Awaited<ReturnType<typeof openBoard>>['sim']>) => void,
) {
  const b = await openBoard(boardDefinition('cm4'), {
    mode: 'sim',
    sim: { unitId: 'hrb-040', site: SITE, scenario: 'temperate', link: 'lte', clock: scaledClock(50), seed: 40 },
  });
  t.after(() => b.close());
  assert.ok(b.sim);
  before?.(b.sim);
  const got = new Promise<string[]>((resolve) => {
    let buf = '';
    b.gps.stream.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const ls = buf.split('\r\n');
      if (ls.filter((l) => l.startsWith('$GNRMC')).length > n)
        resolve(
          ls.slice(
            0,
            ls.findLastIndex((l) => l.startsWith('$GNRMC')),
          ),
        );
    });
  });
  return deadline(`${n + 1} RMC sentences on the GPS line`, got);
}

test('every line is $…*hh with a matching XOR checksum and parses; each epoch is RMC GGA GSA VTG GSV…', async (t) => {
  const lines = await epochs(t, 3);
  let gsvSats = 0;
  for (const line of lines) {
    assert.match(line, /^\$[A-Z]{5},[^*$]*\*[0-9A-F]{2}$/);
    assert.ok(line.length <= 82, `NMEA 0183 caps a sentence at 82 characters: ${line}`);
    const p = parseNmeaSentence(line);
    if (p.sentenceId === 'GSV') gsvSats += (p as unknown as { satellites: unknown[] }).satellites.length;
  }
  assert.equal(gsvSats, 3 * 11, 'GSV lists the 11 satellites in view each epoch');
  const order = lines.map((l) => l.slice(3, 6)).filter((id, i, all) => id !== 'GSV' || all[i - 1] !== 'GSV');
  assert.deepEqual(order, Array(3).fill(['RMC', 'GGA', 'GSA', 'VTG', 'GSV']).flat());
  const gga = lines
    .filter((l) => l.startsWith('$GNGGA'))
    .map((l) => parseNmeaSentence(l) as unknown as { latitude: number; longitude: number });
  // Jitter: a parked receiver scatters by metres, never by tens of metres, and does move.
  assert.ok(gga.every((g) => Math.abs(g.latitude - SITE.lat) < 3e-5 && Math.abs(g.longitude - SITE.lon) < 3e-5));
  assert.ok(new Set(gga.map((g) => g.latitude)).size > 1);
});

test('without a fix: RMC status V, GGA quality 0, no position, GSA mode 1', async (t) => {
  const lines = await epochs(t, 1, (sim) => sim.loseFix(true));
  const rmc = parseNmeaSentence(lines.find((l) => l.startsWith('$GNRMC')) ?? '') as unknown as { status: string };
  const gga = parseNmeaSentence(lines.find((l) => l.startsWith('$GNGGA')) ?? '') as unknown as { fixType: string };
  assert.equal(rmc.status, 'warning');
  assert.equal(gga.fixType, 'none');
  assert.match(lines.find((l) => l.startsWith('$GNGGA')) ?? '', /^\$GNGGA,\d{6}\.00,,,,,0,/);
  assert.match(lines.find((l) => l.startsWith('$GNGSA')) ?? '', /^\$GNGSA,A,1,/);
});
