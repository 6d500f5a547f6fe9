import { type Action, can, ROLES } from '../domain/roles.ts';

/** What was typed cannot be sent: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function need(v: string | undefined, what: string): string {
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

export interface Answer {
  ok: boolean;
  status: number;
  body: unknown;
  error?: { code?: string; message?: string; path?: string };
}

export async function call(api: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const url = new URL(path, api);
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch((err: Error) => {
    throw new Error(`cannot reach the fleet API at ${url.origin}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
  });
  const parsed = (await res.json().catch(() => null)) as { error?: Answer['error'] } | null;
  return { ok: res.ok, status: res.status, body: parsed, ...(parsed?.error ? { error: parsed.error } : {}) };
}

/** Prints the fleet's refusal with what to do about it; the exit code says whose move it is. */
export function refused(io: { err(s: string): void }, r: Answer, action: Action): number {
  const may = ROLES.filter((role) => can(role, action));
  const hint =
    r.status === 401
      ? ' (set --token or SHOUWANG_TOKEN)'
      : r.status === 403 && r.error?.code === 'FORBIDDEN'
        ? ` (a ${may.join(', ').replace(/, ([^,]*)$/, ' or $1')} token may)`
        : '';
  io.err(
    `${r.status} ${r.error?.code ?? ''}: ${r.error?.message ?? 'request failed'}${r.error?.path ? ` at ${r.error.path}` : ''}${hint}\n`,
  );
  if (r.status === 400) return 2;
  if (r.status >= 500 || r.status === 408) return 3;
  return 4;
}
