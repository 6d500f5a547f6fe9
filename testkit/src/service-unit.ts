import { readFileSync } from 'node:fs';

/**
 * The node flags and environment a systemd unit starts its service with, so that a bench runs
 * the process exactly as it is deployed and the two cannot drift apart. `Environment=` entries
 * named with `skipPrefix` (the service's own config, with production paths) are left out.
 */
export interface ServiceUnit {
  flags: string[];
  env: Record<string, string>;
}

export function readServiceUnit(file: string, skipPrefix: string): ServiceUnit {
  const text = readFileSync(file, 'utf8');
  const exec = /^ExecStart=\S*node((?: --\S+)*) \S+$/m.exec(text);
  if (!exec) throw new Error(`${file}: no ExecStart=…node [--flags] <entry> line`);
  const env: Record<string, string> = {};
  for (const [, k, v] of text.matchAll(/^Environment=(\w+)=(.*)$/gm))
    if (k !== undefined && v !== undefined && !k.startsWith(skipPrefix)) env[k] = v;
  return { flags: (exec[1] ?? '').trim().split(/\s+/).filter(Boolean), env };
}
