/**
 * kill -9 during heavy writes, twenty times over one outbox file: every seq the writer reported as
 * accepted is still there, the database passes its integrity check, and seq never goes backwards
 * across restarts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WRITER = fileURLToPath(new URL('./fixtures/outbox-writer.ts', import.meta.url));

function runAndKill(db: string, killAfter: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, db], { stdio: ['ignore', 'pipe', 'inherit'] });
    const accepted: number[] = [];
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) accepted.push(Number(l));
      if (accepted.length >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(accepted) : reject(new Error(`writer exited with ${signal}`))));
  });
}

test('20 × kill -9 during heavy writes: nothing accepted is lost, seq never reused', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'outbox.db');
  const all: number[] = [];
  for (let run = 0; run < 20; run++) {
    // Kill at varying depths into the write stream, including right after start-up.
    const got = await runAndKill(path, 1 + ((run * 137) % 400));
    assert.ok(got.length > 0);
    if (all.length > 0) assert.ok((got[0] ?? -1) > (all.at(-1) ?? -1), `run ${run} restarted seq at ${got[0]} after ${all.at(-1)}`);
    all.push(...got);
  }
  const db = new DatabaseSync(path);
  t.after(() => db.close());
  assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
  const stored = new Set((db.prepare('SELECT seq FROM outbox').all() as { seq: number }[]).map((r) => r.seq));
  const lost = all.filter((s) => !stored.has(s));
  assert.deepEqual(lost, [], `${lost.length} accepted messages lost`);
  // Seq and rows are written in one transaction: no gaps, no orphans.
  const max = Math.max(...stored);
  assert.equal(stored.size, max + 1);
});
