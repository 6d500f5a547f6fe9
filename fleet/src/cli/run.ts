import { parseArgs } from 'node:util';
import { COMMAND_NAMES, COMMANDS, type CommandName } from '@shouwang/protocol';
import { Value } from '@sinclair/typebox/value';
import mqtt from 'mqtt';
import type { UnitView } from '../domain/unit-state.ts';
import { CommandClient, CommandTimeout } from '../services/commands.ts';
import { unitDetail, unitsTable } from './format.ts';

/**
 * `shouwang`: the technician's and operator's command line. Reads go through the fleet API (so
 * they see the same derived state as the dashboard); commands go straight to the unit over MQTT.
 * Exit codes: 0 ok, 1 the unit answered with an error, 2 usage, 3 unreachable or no answer.
 */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  env: Record<string, string | undefined>;
  now?: () => number;
}

export const USAGE = `usage: shouwang <command> [options]

  units                         list units: status, charge, time to empty, link, last seen
  unit <id>                     one unit in detail
  at-risk [--hours 48]          units that are dark or will run out of power within the horizon
  command <id> <name> [--args JSON] [--timeout S]
                                send a command over MQTT and wait for the unit's answer
                                names: ${COMMAND_NAMES.join(', ')}

options (environment in brackets):
  --api URL          fleet API [SHOUWANG_API]                      default http://127.0.0.1:8080
  --token TOKEN      API bearer token [SHOUWANG_TOKEN]
  --mqtt URL         gateway [SHOUWANG_MQTT_URL]                   default mqtt://127.0.0.1:1883
  --username NAME    MQTT service name [SHOUWANG_MQTT_USERNAME]    default fleet
  --password SECRET  MQTT secret [SHOUWANG_MQTT_PASSWORD]
  --json             print JSON instead of a table
`;

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
  const api = o.api ?? io.env.SHOUWANG_API ?? 'http://127.0.0.1:8080';
  const token = o.token ?? io.env.SHOUWANG_TOKEN;
  const now = io.now ?? Date.now;
  try {
    switch (verb) {
      case 'units': {
        const body = (await getJson(api, '/api/units', token)) as { units: UnitView[] };
        io.out(o.json ? `${JSON.stringify(body.units, null, 2)}\n` : unitsTable(body.units, now()));
        return 0;
      }
      case 'unit': {
        const id = need(rest[0], 'unit id');
        const unit = (await getJson(api, `/api/units/${encodeURIComponent(id)}`, token)) as UnitView;
        io.out(o.json ? `${JSON.stringify(unit, null, 2)}\n` : unitDetail(unit, now()));
        return 0;
      }
      case 'at-risk': {
        const hours = o.hours ?? '48';
        const body = await getJson(api, `/api/at-risk?hours=${encodeURIComponent(hours)}`, token);
        io.out(`${JSON.stringify(body, null, 2)}\n`);
        return 0;
      }
      case 'command':
        return await command(need(rest[0], 'unit id'), need(rest[1], 'command name'), o, io);
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
      mqtt: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      args: { type: 'string' },
      timeout: { type: 'string' },
      hours: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

type Options = ReturnType<typeof parse>['values'];

function need(v: string | undefined, what: string): string {
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

async function getJson(api: string, path: string, token: string | undefined): Promise<unknown> {
  const url = new URL(path, api);
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }).catch((err: Error) => {
    throw new Error(`cannot reach the fleet API at ${url.origin}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
  });
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok) throw new Error(`${res.status} from ${path}: ${body?.error?.message ?? res.statusText}`);
  return body;
}

async function command(unitId: string, name: string, o: Options, io: CliIo): Promise<number> {
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
  const timeoutS = Number(o.timeout ?? '30');
  if (!(timeoutS > 0)) throw new UsageError('--timeout must be a positive number of seconds');

  const url = o.mqtt ?? io.env.SHOUWANG_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const client = await mqtt.connectAsync(url, {
    username: o.username ?? io.env.SHOUWANG_MQTT_USERNAME ?? 'fleet',
    password: o.password ?? io.env.SHOUWANG_MQTT_PASSWORD ?? '',
    // A fresh client id per run: two technicians' CLIs must not take over each other's session.
    clientId: `cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  const commands = new CommandClient(client);
  try {
    const res = await commands.send(unitId, cmd, args as never, { timeoutMs: timeoutS * 1000 });
    if (res.status === 'ok') {
      io.out(`${JSON.stringify(res.data, null, 2)}\n`);
      return 0;
    }
    io.err(`${unitId} answered ${res.error.code}: ${res.error.message}${res.error.path ? ` at ${res.error.path}` : ''}\n`);
    return 1;
  } catch (err) {
    if (err instanceof CommandTimeout) {
      io.err(`${err.message} (a sleeping unit answers at its next contact; the request expires unanswered)\n`);
      return 3;
    }
    throw err;
  } finally {
    commands.close();
    await client.endAsync();
  }
}
