/**
 * `./dev start`: the whole system on embedded defaults — gateway, fleet manager with its
 * dashboard, and several simulated units in Harbin — until Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { HARBIN_SITES } from './sites.ts';
import { startSystem } from './system.ts';
import { SEED_VERSION } from './unit-slots.ts';

const { values } = parseArgs({
  options: {
    units: { type: 'string', default: process.env.SHOUWANG_UNITS ?? '3' },
    'mqtt-port': { type: 'string', default: process.env.SHOUWANG_MQTT_PORT ?? '1883' },
    'http-port': { type: 'string', default: process.env.SHOUWANG_HTTP_PORT ?? '8080' },
    'gateway-http-port': { type: 'string', default: process.env.SHOUWANG_GATEWAY_HTTP_PORT ?? '9102' },
    'data-dir': { type: 'string', default: process.env.SHOUWANG_DATA_DIR ?? '.data/system' },
    scenario: { type: 'string', default: process.env.SHOUWANG_SCENARIO },
    'time-scale': { type: 'string', default: process.env.SHOUWANG_TIME_SCALE },
    influx: { type: 'string', default: process.env.SHOUWANG_INFLUX_URL },
    'flows-port': { type: 'string', default: process.env.SHOUWANG_FLOWS_PORT ?? '1880' },
    'without-flows': { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: ./dev start [--units N] [--mqtt-port P] [--http-port P] [--gateway-http-port P]
                   [--data-dir DIR] [--scenario NAME] [--time-scale X] [--influx URL]
                   [--flows-port P | --without-flows] [-v]
  --influx URL  an InfluxDB 1.x HTTP API (e.g. http://127.0.0.1:8086) for readings and history;
                without it readings stay in the gateway's embedded journal and the fleet keeps its own history
  --flows-port P  Node-RED's editor and inbound webhooks (default 1880); --without-flows runs no Node-RED
Node-RED's default flows read SHOUWANG_12345_URL, SHOUWANG_OPEN311_URL (+ SHOUWANG_OPEN311_JURISDICTION,
     SHOUWANG_12345_TOKEN, SHOUWANG_OPEN311_API_KEY); without an endpoint its deliver node sends nothing and
     ticket events wait in the fleet's outbox. SHOUWANG_FLOWS_ADMIN_PASSWORD / SHOUWANG_FLOWS_INBOUND_TOKEN
     fix the editor password / webhook token (else made on the data dir's first start and shown once).
Env: SHOUWANG_UNITS, SHOUWANG_MQTT_PORT, SHOUWANG_HTTP_PORT, SHOUWANG_GATEWAY_HTTP_PORT, SHOUWANG_DATA_DIR,
     SHOUWANG_SCENARIO, SHOUWANG_TIME_SCALE, SHOUWANG_INFLUX_URL; LOG_LEVEL for every process;
     SHOUWANG_FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN to keep one admin token across runs (else a new one each run).`);
  process.exit(0);
}

function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max} (got ${v})`);
    process.exit(2);
  }
  return n;
}

const units = int('units', values.units, 1, 500);
const pretty = prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' });
const quiet = !values.verbose;
const started = Date.now();
// An admin token for this run (unless one is given): the dashboard's sign-in link and the CLI's token.
const adminToken = process.env.SHOUWANG_FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN || `swt_${randomBytes(24).toString('base64url')}`;

let stopping = false;
let stop: (() => Promise<void>) | undefined;
const shutdown = (code: number) => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  // Before the system is up there is nothing to stop here: startSystem stops what it started when
  // it fails, and a part still starting ends itself when this process goes (IPC disconnect).
  (stop ?? (async () => undefined))().then(
    () => process.exit(code),
    () => process.exit(1),
  );
};
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

const system = await startSystem({
  units,
  mqttPort: int('mqtt-port', values['mqtt-port'], 0, 65535),
  httpPort: int('http-port', values['http-port'], 0, 65535),
  gatewayHttpPort: int('gateway-http-port', values['gateway-http-port'], 0, 65535),
  dataDir: values['data-dir'] ?? '.data/system',
  env: { LOG_LEVEL: quiet ? (process.env.LOG_LEVEL ?? 'info') : 'debug' },
  adminToken,
  ...(values.scenario ? { scenario: values.scenario } : {}),
  ...(values['time-scale'] ? { timeScale: Number(values['time-scale']) } : {}),
  ...(values.influx ? { influxUrl: values.influx } : {}),
  ...(values['without-flows'] ? {} : { flows: { httpPort: int('flows-port', values['flows-port'], 0, 65535) } }),
  onLog: (source, line) => {
    let text = line;
    try {
      text = pretty(JSON.parse(line)).trimEnd();
    } catch {}
    process.stdout.write(`${source.padEnd(8)} ${text}\n`);
  },
  // One part gone ends the run: a half system that looks alive is worse than a loud stop.
  onPartExit: (name, code, signal) => {
    console.error(`${name} exited (code ${code}, signal ${signal}); stopping everything`);
    shutdown(1);
  },
}).catch((err: unknown) => {
  console.error(`start failed: ${(err as Error).message}`);
  process.exit(1);
});
stop = system.stop;

const took = ((Date.now() - started) / 1000).toFixed(1);

function flowsLines(): string {
  const f = system.flows;
  if (!f) return '    flows (Node-RED)  not started (--without-flows)';
  const base = `http://127.0.0.1:${f.httpPort}`;
  const shown = (v: string | undefined, kept: string) => v ?? kept;
  const endpoint = (name: string) => process.env[name] || `not set (${name}): events wait in the fleet's outbox`;
  return [
    `    flows (Node-RED)  ${base}/   user admin, password ${shown(f.generated.adminPassword, 'kept from an earlier start (hashed in the data dir) or as given')}`,
    `    inbound webhooks  POST ${base}/hooks/12345/status, ${base}/hooks/status`,
    `                      Authorization: Bearer ${shown(f.generated.inboundToken, 'kept from an earlier start (hashed in the data dir) or as given')}`,
    `    12345 webhook     ${endpoint('SHOUWANG_12345_URL')}`,
    `    Open311           ${endpoint('SHOUWANG_OPEN311_URL')}`,
  ].join('\n');
}
console.log(`
  Shouwang is running (started in ${took} s)
    dashboard + API   http://127.0.0.1:${system.httpPort}/         (GET /api/units)
    sign in (admin)   http://127.0.0.1:${system.httpPort}/#token=${adminToken}
    CLI               SHOUWANG_TOKEN=${adminToken} ./dev shouwang units
    release key       ${system.releaseKeys.privateKey}  (id ${system.releaseKeys.keyId}; trusted by fleet and units: ${system.releaseKeys.trustedKeys})
    releases          ${system.releasesDir}  (units run from A/B slots, installed with ${SEED_VERSION} from this checkout: build the next --from ${SEED_VERSION})
    MQTT gateway      mqtt://127.0.0.1:${system.mqttPort}
    gateway health    http://127.0.0.1:${system.gatewayHttpPort}/health   metrics: /metrics
${flowsLines()}
    simulated units   ${system.units.length} of ${HARBIN_SITES.length} demo sites, registered and claimed through the API:
${system.units.map((u) => `                      ${u.id}  ${u.site.name}`).join('\n')}
  Ctrl-C stops everything.
`);
