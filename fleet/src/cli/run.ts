import { parseArgs } from 'node:util';
import { COMMAND_NAMES, COMMANDS, type CommandName } from '@shouwang/protocol';
import { Value } from '@sinclair/typebox/value';
import type { AtRisk } from '../domain/risk.ts';
import { type Action, can, commandAction, ROLES } from '../domain/roles.ts';
import type { UnitView } from '../domain/unit-state.ts';
import type { CommissioningRecord } from '../services/unit-commands.ts';
import { atRiskTable, clockIn, commissioningTable, unitDetail, unitsTable } from './format.ts';
import { OTA_OPTIONS, OTA_VERBS, runOta } from './ota.ts';

/**
 * `shouwang`: the technician's and maintainer's command line, over the fleet API only — the same
 * derived state as the dashboard, and the same roles: a technician's token is all it needs, never
 * an MQTT secret. Exit codes: 0 ok, 1 the unit answered with an error or a check failed,
 * 2 usage (also when the fleet refuses what was typed, a 400), 3 the fleet or the unit did not
 * answer, 4 the fleet refused (no token, a role that may not, not found, conflict).
 */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  env: Record<string, string | undefined>;
  now?: () => number;
}

const VERBS = {
  units: 'units                         list units: status, charge, time to empty, link, last seen',
  unit: 'unit <id>                     one unit in detail',
  'at-risk': 'at-risk [--hours 48]          units that are dark or will run out of power within the horizon',
  register: `register <id> [--board B] [--tags a,b]
                                (maintainer) register a unit; prints its one-time claim code`,
  claim: `claim <code> [--site-lat LAT --site-lon LON] [--site-name NAME] [--grid-cell CELL]
                                (technician, on site) claim a unit; prints its MQTT credentials once;
                                the code as printed on the label (spaces, dashes and case do not matter)`,
  commission: "commission <id> [--timeout S] run the unit's checklist; exit 1 if any check fails",
  command: `command <id> <name> [--args JSON] [--timeout S]
                                send a command and wait for the unit's answer
                                names: ${COMMAND_NAMES.join(', ')}`,
  ...OTA_VERBS,
} as const;
type Verb = keyof typeof VERBS;

const OPTIONS = `options (environment in brackets):
  --api URL          fleet API [SHOUWANG_API]                      default http://127.0.0.1:8080
  --token TOKEN      API bearer token [SHOUWANG_TOKEN]
  --tz ZONE          time zone times are shown in [SHOUWANG_TZ]   default Asia/Shanghai
  --json             print JSON instead of a table
  -h, --help         this help (after a command: that command's)
exit codes: 0 ok, 1 the unit answered an error or a check failed, 2 usage, 3 no answer, 4 refused
`;

export const USAGE = `usage: shouwang <command> [options]

${Object.values(VERBS)
  .map((v) => `  ${v}`)
  .join('\n')}

${OPTIONS}`;

const isVerb = (v: string | undefined): v is Verb => v !== undefined && Object.hasOwn(VERBS, v);

class UsageError extends Error {}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const {
    values: o,
    positionals: [verb, ...rest],
  } = parsed;
  if (o.help) {
    io.out(isVerb(verb) ? `usage: shouwang ${VERBS[verb]}\n\n${OPTIONS}` : USAGE);
    return 0;
  }
  const api = o.api ?? io.env.SHOUWANG_API ?? 'http://127.0.0.1:8080';
  const token = o.token ?? io.env.SHOUWANG_TOKEN;
  const now = io.now ?? Date.now;
  try {
    const zone = o.tz ?? io.env.SHOUWANG_TZ ?? 'Asia/Shanghai';
    const at = clockIn(zone);
    if (!at) throw new UsageError(`unknown time zone ${JSON.stringify(zone)} (an IANA name, e.g. Asia/Shanghai)`);
    const read = async (path: string, show: (body: unknown) => string): Promise<number> => {
      const r = await call(api, 'GET', path, token);
      if (!r.ok) return refused(io, r, 'read');
      io.out(o.json ? `${JSON.stringify(r.body, null, 2)}\n` : show(r.body));
      return 0;
    };
    switch (verb) {
      case 'units':
        return await read('/api/units', (b) => unitsTable((b as { units: UnitView[] }).units, now(), at));
      case 'unit':
        return await read(`/api/units/${encodeURIComponent(need(rest[0], 'unit id'))}`, (b) => unitDetail(b as UnitView, now(), at));
      case 'at-risk':
        return await read(`/api/at-risk?hours=${encodeURIComponent(o.hours ?? '48')}`, (b) =>
          atRiskTable(b as { horizonH: number; units: AtRisk[] }),
        );
      case 'register':
        return await register(need(rest[0], 'unit id'), o, io, api, token, at);
      case 'claim':
        // Typed as read off the label, the code may come as several words.
        return await claim(normaliseClaimCode(need(rest.join(''), 'claim code')), o, io, api, token);
      case 'commission':
        return await commission(need(rest[0], 'unit id'), o, io, api, token);
      case 'command':
        return await command(need(rest[0], 'unit id'), need(rest[1], 'command name'), o, io, api, token);
      case 'release':
      case 'campaign': {
        const answer = (r: Answer) => ({ ok: r.ok, body: r.body, refuse: () => refused(io, r, 'manage-updates') });
        return await runOta(verb, rest, o, {
          out: io.out,
          json: o.json === true,
          at,
          now,
          get: async (path) => answer(await call(api, 'GET', path, token)),
          post: async (path, body) => answer(await call(api, 'POST', path, token, body ?? {})),
          usage: (m) => {
            throw new UsageError(m);
          },
        });
      }
      case undefined:
      case 'help':
        io.out(USAGE);
        return verb === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(verb)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`${(err as Error).message}\n`);
    return 3;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      token: { type: 'string' },
      args: { type: 'string' },
      board: { type: 'string' },
      tags: { type: 'string' },
      'site-lat': { type: 'string' },
      'site-lon': { type: 'string' },
      'site-name': { type: 'string' },
      'grid-cell': { type: 'string' },
      timeout: { type: 'string' },
      hours: { type: 'string' },
      tz: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...OTA_OPTIONS,
    },
  });
}

type Options = ReturnType<typeof parse>['values'];

function need(v: string | undefined, what: string): string {
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

/**
 * A claim code as a person reads it off a label: any case, grouped with spaces or dashes. The
 * registry hashes the 12 symbols alone; they go as XXXX-XXXX-XXXX.
 */
export function normaliseClaimCode(typed: string): string {
  const s = typed.toUpperCase().replace(/[\s-]/g, '');
  if (!/^[0-9A-Z]{12}$/.test(s))
    throw new UsageError(`a claim code is 12 letters and digits, e.g. 7KQ2-M9XD-4HTP (got ${JSON.stringify(typed)})`);
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

async function register(
  id: string,
  o: Options,
  io: CliIo,
  api: string,
  token: string | undefined,
  at: (ts: number) => string,
): Promise<number> {
  const tags = o.tags ? o.tags.split(',').map((t) => t.trim()) : undefined;
  const r = await call(api, 'POST', '/api/registry/units', token, {
    id,
    ...(o.board ? { board: o.board } : {}),
    ...(tags ? { tags } : {}),
  });
  if (!r.ok) return refused(io, r, 'manage-units');
  const { claimCode, unit } = r.body as { claimCode: string; unit: { claimExpiresAt: number | null } };
  io.out(
    o.json
      ? `${JSON.stringify(r.body, null, 2)}\n`
      : `${id} registered. Claim code (shown once; give it to the technician who installs the unit):\n\n    ${claimCode}\n\n` +
          `valid until ${unit.claimExpiresAt ? at(unit.claimExpiresAt) : 'never'}\n`,
  );
  return 0;
}

async function claim(code: string, o: Options, io: CliIo, api: string, token: string | undefined): Promise<number> {
  const lat = o['site-lat'] === undefined ? undefined : Number(o['site-lat']);
  const lon = o['site-lon'] === undefined ? undefined : Number(o['site-lon']);
  if ((lat === undefined) !== (lon === undefined) || Number.isNaN(lat) || Number.isNaN(lon))
    throw new UsageError('--site-lat and --site-lon go together, as decimal degrees');
  const body = {
    code,
    ...(lat !== undefined && lon !== undefined ? { site: { lat, lon, ...(o['site-name'] ? { name: o['site-name'] } : {}) } } : {}),
    ...(o['grid-cell'] ? { gridCell: o['grid-cell'] } : {}),
  };
  const r = await call(api, 'POST', '/api/claim', token, body);
  if (!r.ok) return refused(io, r, 'claim');
  const c = r.body as { unitId: string; username: string; password: string };
  io.out(
    o.json
      ? `${JSON.stringify(c, null, 2)}\n`
      : `${c.unitId} claimed. Its MQTT credentials (shown once; put them in the unit's config, mqtt.password):\n\n` +
          `    username  ${c.username}\n    password  ${c.password}\n`,
  );
  return 0;
}

async function command(unitId: string, name: string, o: Options, io: CliIo, api: string, token: string | undefined): Promise<number> {
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown command name ${JSON.stringify(name)}`);
  const cmd = name as CommandName;
  let args: unknown;
  try {
    args = JSON.parse(o.args ?? '{}');
  } catch {
    throw new UsageError('--args is not valid JSON');
  }
  // Refuse locally, with the field's path, what the unit would refuse after a satellite round trip.
  const bad = Value.Errors(COMMANDS[cmd].args, args).First();
  if (bad) throw new UsageError(`--args ${bad.path || '/'}: ${bad.message}`);
  const r = await call(api, 'POST', `/api/units/${encodeURIComponent(unitId)}/commands/${cmd}`, token, { args, ...timeout(o) });
  if (r.status === 502) {
    io.err(`${r.error?.message ?? 'the unit refused'} (${r.error?.code})\n`);
    return 1;
  }
  if (!r.ok) return refused(io, r, commandAction(cmd));
  io.out(`${JSON.stringify(cmd === 'commission' ? r.body : (r.body as { data: unknown }).data, null, 2)}\n`);
  return 0;
}

async function commission(unitId: string, o: Options, io: CliIo, api: string, token: string | undefined): Promise<number> {
  io.err(`commissioning ${unitId}: GPS, signal, battery, charge, camera, test upload…\n`);
  const r = await call(api, 'POST', `/api/units/${encodeURIComponent(unitId)}/commands/commission`, token, timeout(o));
  if (!r.ok) return refused(io, r, 'command');
  const run = r.body as CommissioningRecord;
  io.out(o.json ? `${JSON.stringify(run, null, 2)}\n` : commissioningTable(run));
  return run.passed ? 0 : 1;
}

function timeout(o: Options): { timeoutS?: number } {
  if (o.timeout === undefined) return {};
  const s = Number(o.timeout);
  if (!(s >= 1 && s <= 600)) throw new UsageError('--timeout must be 1 to 600 seconds');
  return { timeoutS: s };
}

interface Answer {
  ok: boolean;
  status: number;
  body: unknown;
  error?: { code?: string; message?: string; path?: string };
}

async function call(api: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
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
function refused(io: CliIo, r: Answer, action: Action): number {
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
