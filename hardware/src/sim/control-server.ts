import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { PowerEvent, SimControl } from './sim-board.ts';

/**
 * SimControl on loopback, for the dev orchestrator and the dashboard demo, which cannot reach into
 * the agent's process:
 * - `GET /truth` → the simulator's SimTruth as JSON;
 * - `POST /faults` with one Fault (below) → `{ ok: true }`, or 400 `{ ok: false, error: { code, message, path } }`;
 * - `GET /events` → Server-Sent Events, one `event: power` per PowerEvent (a harness kills or
 *   restarts the agent on them).
 * Bad requests are counted by reason in `rejected` and answered; the server keeps serving.
 */
const Port = Type.Union([Type.Literal('gps'), Type.Literal('modem')]);
const On = Type.Boolean();
export const Fault = Type.Union([
  Type.Object({ op: Type.Literal('setSoc'), soc: Type.Number({ minimum: 0, maximum: 100 }) }),
  Type.Object({
    op: Type.Literal('setWeather'),
    cloud: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    windMps: Type.Optional(Type.Number({ minimum: 0, maximum: 60 })),
    tempC: Type.Optional(Type.Number({ minimum: -60, maximum: 60 })),
  }),
  Type.Object({
    op: Type.Literal('move'),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
  }),
  Type.Object({
    op: Type.Literal('drive'),
    speedMps: Type.Number({ minimum: 0, maximum: 50 }),
    courseDeg: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
  }),
  Type.Object({ op: Type.Literal('loseFix'), lost: On }),
  Type.Object({ op: Type.Literal('tamper'), on: On }),
  Type.Object({ op: Type.Literal('motion'), on: On }),
  Type.Object({ op: Type.Literal('tilt'), deg: Type.Number({ minimum: 0, maximum: 90 }) }),
  Type.Object({ op: Type.Literal('cameraPower'), on: On }),
  Type.Object({ op: Type.Literal('setSignal'), rssiDbm: Type.Number({ minimum: -140, maximum: -30 }) }),
  Type.Object({ op: Type.Literal('modemSilent'), silent: On }),
  Type.Object({ op: Type.Literal('serialGarbage'), port: Port, bytes: Type.String({ maxLength: 4096 }) }),
  Type.Object({ op: Type.Literal('serialTruncate'), port: Port }),
  Type.Object({ op: Type.Literal('serialClose'), port: Port }),
  Type.Object({ op: Type.Literal('gpsSilent'), silent: On }),
  Type.Object({ op: Type.Literal('modemDelay'), ms: Type.Integer({ minimum: 0, maximum: 600_000 }) }),
  Type.Object({
    op: Type.Literal('modemStray'),
    command: Type.String({ minLength: 2, maxLength: 64 }),
    text: Type.String({ maxLength: 4096 }),
  }),
  Type.Object({ op: Type.Literal('modemBare'), command: Type.String({ minLength: 2, maxLength: 64 }), bare: On }),
  Type.Object({ op: Type.Literal('linkOutage'), ms: Type.Integer({ minimum: 1, maximum: 86_400_000 }) }),
  Type.Object({ op: Type.Literal('panelUnplugged'), unplugged: On }),
  Type.Object({ op: Type.Literal('i2cSilent'), address: Type.Integer({ minimum: 0, maximum: 0x7f }), silent: On }),
  Type.Object({ op: Type.Literal('powerCut') }),
  Type.Object({ op: Type.Literal('powerRestore') }),
]);
export type Fault = Static<typeof Fault>;

/** One compiled checker per op, so a refusal names the bad field rather than "expected union value". */
const checkOp = new Map(Fault.anyOf.map((v) => [v.properties.op.const as string, TypeCompiler.Compile(v)]));

/** The fault, or the first problem with it as { message, path }. */
export function parseFault(value: unknown): { ok: true; fault: Fault } | { ok: false; message: string; path: string } {
  const op = typeof value === 'object' && value !== null ? (value as { op?: unknown }).op : undefined;
  const check = typeof op === 'string' ? checkOp.get(op) : undefined;
  if (!check) return { ok: false, message: `unknown op; known: ${[...checkOp.keys()].join(', ')}`, path: '/op' };
  if (check.Check(value)) return { ok: true, fault: value as Fault };
  const first = check.Errors(value).First();
  return { ok: false, message: first?.message ?? 'invalid', path: first?.path ?? '' };
}
const MAX_BODY = 16 * 1024;

export type RejectReason = 'not-found' | 'too-large' | 'bad-json' | 'bad-fault';

export interface SimControlServer {
  readonly url: string;
  /** Requests refused, by reason. */
  readonly rejected: Readonly<Record<RejectReason, number>>;
  close(): Promise<void>;
}

/** Applies one validated fault; exhaustive over Fault so a new op cannot be left unwired. */
export function applyFault(sim: SimControl, f: Fault): void {
  switch (f.op) {
    case 'setSoc':
      sim.setSoc(f.soc);
      return;
    case 'setWeather': {
      const { op: _, ...w } = f;
      sim.setWeather(w);
      return;
    }
    case 'move':
      sim.move(f.lat, f.lon);
      return;
    case 'drive':
      sim.drive(f.speedMps, f.courseDeg);
      return;
    case 'loseFix':
      sim.loseFix(f.lost);
      return;
    case 'tamper':
      sim.tamper(f.on);
      return;
    case 'motion':
      sim.motion(f.on);
      return;
    case 'tilt':
      sim.tilt(f.deg);
      return;
    case 'cameraPower':
      sim.cameraPower(f.on);
      return;
    case 'setSignal':
      sim.setSignal(f.rssiDbm);
      return;
    case 'modemSilent':
      sim.modemSilent(f.silent);
      return;
    case 'serialGarbage':
      sim.serialGarbage(f.port, f.bytes);
      return;
    case 'serialTruncate':
      sim.serialTruncate(f.port);
      return;
    case 'serialClose':
      sim.serialClose(f.port);
      return;
    case 'gpsSilent':
      sim.gpsSilent(f.silent);
      return;
    case 'modemDelay':
      sim.modemDelay(f.ms);
      return;
    case 'modemStray':
      sim.modemStray(f.command, f.text);
      return;
    case 'modemBare':
      sim.modemBare(f.command, f.bare);
      return;
    case 'linkOutage':
      sim.linkOutage(f.ms);
      return;
    case 'panelUnplugged':
      sim.panelUnplugged(f.unplugged);
      return;
    case 'i2cSilent':
      sim.i2cSilent(f.address, f.silent);
      return;
    case 'powerCut':
      sim.powerCut();
      return;
    case 'powerRestore':
      sim.powerRestore();
      return;
  }
}

/** Listens on 127.0.0.1 only (the control plane of a simulator is never a network service); port 0 picks a free one. */
export async function startSimControlServer(sim: SimControl, options: { port?: number } = {}): Promise<SimControlServer> {
  const rejected: Record<RejectReason, number> = { 'not-found': 0, 'too-large': 0, 'bad-json': 0, 'bad-fault': 0 };
  const streams = new Set<ServerResponse>();
  const unsubscribe = sim.onPower((e: PowerEvent) => {
    for (const s of streams) s.write(`event: power\ndata: ${JSON.stringify(e)}\n\n`);
  });
  const refuse = (res: ServerResponse, status: number, reason: RejectReason, message: string, path = '') => {
    rejected[reason]++;
    json(res, status, { ok: false, error: { code: reason, message, path } });
  };

  // Not an ESM import: importing node:http as a module evaluates every lazy export it has (its
  // WebSocket pulls in undici and http2), ~11 MB of RSS in the agent that hosts the simulator.
  const { createServer } = process.getBuiltinModule('node:http');
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/truth') return json(res, 200, sim.truth());
    if (req.method === 'GET' && req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': shouwang sim events\n\n');
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'POST' && req.url === '/faults') {
      readBody(req).then(
        (body) => {
          if (body === undefined) return refuse(res, 413, 'too-large', `body over ${MAX_BODY} bytes`);
          let value: unknown;
          try {
            value = JSON.parse(body);
          } catch (err) {
            return refuse(res, 400, 'bad-json', (err as Error).message);
          }
          const parsed = parseFault(value);
          if (!parsed.ok) return refuse(res, 400, 'bad-fault', parsed.message, parsed.path);
          applyFault(sim, parsed.fault);
          json(res, 200, { ok: true });
        },
        () => res.destroy(),
      );
      return;
    }
    refuse(res, 404, 'not-found', `${req.method} ${req.url} is not a control endpoint`);
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rejected,
    async close() {
      unsubscribe();
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The body as text, or undefined once it passes MAX_BODY (the rest is not read). */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
