/**
 * Agent bundles of past commits, for measuring what a release costs on the wire: each commit's
 * tree is unpacked with `git archive` into a temporary folder whose node_modules points at this
 * checkout's packages (and at that tree's own workspaces), then bundled as a release would be.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltBundle, type BundleOptions, buildBundle } from '../deploy/build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function commitsTouching(paths: string[], count: number): string[] {
  return execFileSync('git', ['log', '--first-parent', `-${count}`, '--format=%h', 'HEAD', '--', ...paths], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .reverse();
}

function unpack(commit: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`], { cwd: ROOT });
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@shouwang'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '@shouwang' && !name.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  for (const ws of ['protocol', 'runtime', 'hardware', 'device']) symlinkSync(join('..', '..', ws), join(modules, '@shouwang', ws));
}

/** Bundles the agent as it was at `commit` into `outfile`; `work` is a scratch folder. */
export async function bundleAt(commit: string, work: string, outfile: string, o: Omit<BundleOptions, 'entry'> = {}): Promise<BuiltBundle> {
  const tree = join(work, commit);
  unpack(commit, tree);
  return buildBundle(outfile, { ...o, entry: join(tree, 'device/src/main.ts') });
}
