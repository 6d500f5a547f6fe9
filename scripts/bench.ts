/**
 * `npm run bench`: runs every `<workspace>/bench/*.ts` in its own process (so memory figures do
 * not mix) and prints one table. Each bench module exports `bench()` (or a default function)
 * returning rows; a row's baseline is measured in the same run, never a constant from elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from '@shouwang/runtime';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MARK = '@@bench-rows@@';

if (process.argv[2] === '--one') {
  const file = process.argv[3] as string;
  const mod = (await import(file)) as { bench?: () => Promise<BenchRow[]>; default?: () => Promise<BenchRow[]> };
  const fn = mod.bench ?? mod.default;
  if (typeof fn !== 'function') throw new Error(`${file} exports no bench() function`);
  const rows = await fn();
  process.stdout.write(`\n${MARK}${JSON.stringify(rows)}\n`);
  process.exit(0);
}

const only = process.argv.slice(2);
const files = globSync('{protocol,hardware,device,gateway,fleet,flows,scripts}/bench/*.ts', { cwd: ROOT })
  .filter((f) => !f.endsWith('.lib.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const table: (BenchRow & { file: string })[] = [];
for (const file of files) {
  process.stderr.write(`bench: ${file} …\n`);
  try {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--one', `${ROOT}${file}`], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = out.split('\n').find((l) => l.startsWith(MARK));
    if (!line) throw new Error('no rows printed');
    for (const r of JSON.parse(line.slice(MARK.length)) as BenchRow[]) table.push({ ...r, file });
  } catch (err) {
    process.stderr.write(`bench: ${file} failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

const fmt = (n: number | undefined) => (n === undefined ? '' : Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
const rows = table.map((r) => [
  r.file.split('/')[0] ?? '',
  r.name,
  `${fmt(r.value)} ${r.unit}`,
  r.baseline === undefined ? '' : `${fmt(r.baseline)} ${r.unit}`,
  r.baseline ? `${(r.value / r.baseline).toFixed(2)}×` : '',
  r.target ?? '',
]);
const head = ['part', 'measure', 'value', 'baseline (same run)', 'ratio', 'target'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
