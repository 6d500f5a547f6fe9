/**
 * `./dev sim <unit> truth | <op> [key=value …]`: reaches into a running simulated unit of
 * `./dev start` through its simulator control server, to stage what the dashboard should show:
 *   ./dev sim hrb-001 truth                      what the simulator knows (charge, position, link)
 *   ./dev sim hrb-001 tamper on=true             open the enclosure
 *   ./dev sim hrb-001 setSoc soc=12              drain the pack
 *   ./dev sim hrb-001 move lat=45.80 lon=126.60  tow the unit
 *   ./dev sim hrb-001 linkOutage ms=60000        cut the radio path for a minute
 * Faults and their fields: hardware/src/sim/control-server.ts. Values are read as JSON when they parse.
 * Exit codes: 0 done, 1 the simulator refused the fault, 2 usage, 3 unit not running.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage: ./dev sim [--data-dir DIR] <unit> truth | <op> [key=value …]
  ./dev sim hrb-001 truth                      what the simulator knows (charge, position, link)
  ./dev sim hrb-001 tamper on=true             open the enclosure
  ./dev sim hrb-001 setSoc soc=12              drain the pack
  ./dev sim hrb-001 move lat=45.80 lon=126.60  tow the unit
  ./dev sim hrb-001 linkOutage ms=60000        cut the radio path for a minute
every fault and its fields: hardware/src/sim/control-server.ts; DIR defaults to $SHOUWANG_DATA_DIR or .data/system`;

const parsed = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string', default: process.env.SHOUWANG_DATA_DIR ?? '.data/system' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [unit, op, ...pairs] = positionals;
if (!unit || !op) {
  console.error(USAGE);
  process.exit(2);
}

let base: string;
try {
  base = readFileSync(join(values['data-dir'] ?? '.data/system', 'units', unit, 'sim-control.url'), 'utf8').trim();
} catch {
  console.error(`no running simulated unit ${unit} under ${values['data-dir']} (is ./dev start running?)`);
  process.exit(3);
}

const value = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
const fault = Object.fromEntries([['op', op], ...pairs.map((p) => [p.slice(0, p.indexOf('=')), value(p.slice(p.indexOf('=') + 1))])]);

try {
  const res =
    op === 'truth'
      ? await fetch(`${base}/truth`)
      : await fetch(`${base}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  console.log(JSON.stringify(await res.json(), null, 2));
  process.exitCode = res.ok ? 0 : 1;
} catch (err) {
  console.error(`${unit}'s simulator does not answer at ${base}: ${(err as Error).message}`);
  process.exitCode = 3;
}
