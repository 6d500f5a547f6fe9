/**
 * Node-RED beside the fleet, as one process: `node flows/src/server.ts` (what `./dev start` runs).
 * Embeds Node-RED 5 on its own HTTP server (no Express host app: stack-notes), with the data dir
 * as its user dir (flows, encrypted credentials, persistent context), this palette installed, the
 * editor behind an admin login, and `http in` routes only under /hooks/, each call checked for
 * the inbound bearer token before Node-RED sees it. A data dir without a flow file gets the
 * shipped default flows (examples/shouwang-default.json), whose endpoints are `${ENV}` values.
 * Sends `{ type: 'ready', httpPort, generated }` over IPC once it serves.
 */
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearerMatches, loadSecrets } from './secrets.ts';

const PALETTE = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_FLOWS = join(PALETTE, 'examples', 'shouwang-default.json');
export const HOOKS = '/hooks/';

interface FlowNode {
  id: string;
  type: string;
  target?: string;
  credentials?: Record<string, string>;
}

interface Red {
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  httpNode: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  runtime: {
    flows: {
      getFlows(o: object): Promise<{ flows: FlowNode[] } | null>;
      setFlows(o: { flows: { flows: FlowNode[] }; deploymentType: string }): Promise<unknown>;
    };
  };
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

function port(name: string, dflt: number): number {
  const v = env(name);
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port from 0 to 65535 (got ${v})`);
  return n;
}

const NR_LEVELS: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
  silent: 'off',
};

/**
 * Credentials from the environment onto the deployed flows (the fleet's flows token and broker
 * account, each endpoint's token), so a rotated token reaches Node-RED at the next start; the
 * runtime encrypts them into the credentials file.
 */
function withCredentials(nodes: FlowNode[]): { nodes: FlowNode[]; changed: boolean } {
  const fleet = {
    token: env('SHOUWANG_FLOWS_FLEET_TOKEN'),
    mqttUser: env('SHOUWANG_FLOWS_MQTT_USERNAME'),
    mqttPassword: env('SHOUWANG_FLOWS_MQTT_PASSWORD'),
  };
  const endpoint: Record<string, Record<string, string | undefined>> = {
    '12345': { token: env('SHOUWANG_12345_TOKEN') },
    open311: { apiKey: env('SHOUWANG_OPEN311_API_KEY') },
  };
  let changed = false;
  const out = nodes.map((n) => {
    const given = n.type === 'shouwang-fleet' ? fleet : n.type === 'shouwang deliver' ? (endpoint[n.target ?? ''] ?? {}) : {};
    const set = Object.fromEntries(Object.entries(given).filter((e): e is [string, string] => e[1] !== undefined));
    if (Object.keys(set).length === 0) return n;
    changed = true;
    return { ...n, credentials: set };
  });
  return { nodes: out, changed };
}

const MAX_INBOUND_BYTES = 64 * 1024;

/** A JSON body read whole (at most 64 KiB), or undefined for a request without one; malformed JSON is a 400. */
function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_INBOUND_BYTES) {
        reject(Object.assign(new Error(`body over ${MAX_INBOUND_BYTES} bytes`), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size === 0) return resolvePromise(undefined);
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        return reject(Object.assign(new Error('content-type application/json expected'), { status: 415 }));
      }
      try {
        resolvePromise(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(new Error(`body is not JSON: ${(err as Error).message}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const dataDir = env('SHOUWANG_FLOWS_DATA_DIR');
  if (!dataDir) throw new Error('SHOUWANG_FLOWS_DATA_DIR is required (Node-RED keeps flows and credentials there)');
  const userDir = resolve(dataDir);
  const httpPort = port('SHOUWANG_FLOWS_HTTP_PORT', 1880);
  const host = env('SHOUWANG_FLOWS_HOST') ?? '127.0.0.1';
  const level = NR_LEVELS[env('LOG_LEVEL') ?? 'info'] ?? 'info';
  await mkdir(join(userDir, 'node_modules', '@shouwang'), { recursive: true });
  // The palette installed as Node-RED installs any: a package in the user dir's node_modules.
  await symlink(PALETTE, join(userDir, 'node_modules', '@shouwang', 'node-red-shouwang')).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const flowFile = join(userDir, 'flows.json');
  const fresh = await copyFile(DEFAULT_FLOWS, flowFile, 1 /* COPYFILE_EXCL */).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return false;
      throw err;
    },
  );
  const { secrets, generated } = await loadSecrets(userDir, {
    adminPassword: env('SHOUWANG_FLOWS_ADMIN_PASSWORD'),
    inboundToken: env('SHOUWANG_FLOWS_INBOUND_TOKEN'),
  });

  const RED = createRequire(import.meta.url)('node-red') as Red;
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith(HOOKS)) return RED.httpAdmin(req, res);
    if (!bearerMatches(req.headers.authorization, secrets.inboundTokenSha256)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="shouwang-flows"' });
      res.end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'a bearer token of the flows inbound webhook is required' } }));
      return;
    }
    readJson(req).then(
      (body) => {
        // body-parser (inside Node-RED's http in) takes a body already read as is.
        Object.assign(req, { body, _body: body !== undefined });
        RED.httpNode(req, res);
      },
      (err: Error & { status?: number }) => {
        res.writeHead(err.status ?? 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: err.status === 413 ? 'SW_ERR_TOO_LARGE' : 'SW_ERR_ENCODING', message: err.message } }));
      },
    );
  });
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: secrets.credentialSecret,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    adminAuth: { type: 'credentials', users: [{ username: 'admin', password: secrets.adminHash, permissions: '*' }] },
    // `file`: on disk at each write (the palette's Open311 requests; survives kill -9); the default stays as flows expect it.
    contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem', config: { cache: false } } },
    logging: { console: { level, metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { palette: { allowInstall: false } },
  });
  server.listen(httpPort, host);
  await new Promise<void>((r, j) => {
    server.once('listening', r);
    server.once('error', j);
  });
  await RED.start();
  // start() can resolve before the flow file is loaded (it was, on a second start of a data dir).
  let current = await RED.runtime.flows.getFlows({});
  for (const end = Date.now() + 30_000; !current; ) {
    if (Date.now() > end) throw new Error('Node-RED did not load its flows within 30 s');
    await new Promise((r) => setTimeout(r, 50));
    current = await RED.runtime.flows.getFlows({});
  }
  const { nodes, changed } = withCredentials(current.flows);
  if (changed) await RED.runtime.flows.setFlows({ flows: { flows: nodes }, deploymentType: 'full' });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    await RED.stop().catch(() => undefined);
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('disconnect', () => void stop());
  const bound = (server.address() as AddressInfo).port;
  process.send?.({ type: 'ready', httpPort: bound, freshFlows: fresh, generated, flowFile });
  console.log(`flows: Node-RED editor at http://${host}:${bound}/ (user admin), inbound webhooks under ${HOOKS}`);
}

main().catch((err: unknown) => {
  console.error(`flows failed to start: ${(err as Error).stack ?? String(err)}`);
  process.send?.({ type: 'failed', reason: (err as Error).message });
  process.exit(1);
});
