import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_PACKET_BYTES } from '@shouwang/protocol';
import type { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { createBroker } from './broker.ts';
import { type BrokerState, openBrokerState } from './broker-state.ts';
import type { GatewayConfig } from './config.ts';
import { CredentialStore } from './credentials.ts';
import { LoginLimiter } from './domain/login-limiter.ts';
import { MediaQuota } from './domain/media-quota.ts';
import { SourceSlots } from './domain/source-slots.ts';
import { createIngest, type IngestPipeline } from './ingest/ingest.ts';
import { type Listener, openListeners } from './listeners.ts';
import { Metrics } from './metrics.ts';
import { guardConnection } from './packet-guard.ts';
import { createRefusals } from './refusals.ts';

export interface GatewayOptions {
  config: GatewayConfig;
  log: Logger;
}

export interface Gateway {
  readonly metrics: Metrics;
  /** Binds the listeners; resolves with the bound ports. */
  listen(): Promise<{ mqttPort: number; httpPort: number; tlsPort?: number; wsPort?: number }>;
  readonly broker: Aedes;
  readonly ingest: IngestPipeline;
  close(): Promise<void>;
}

/** Inert until `listen()`: the constructor stores, `listen` does the I/O. */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, log } = options;
  const metrics = new Metrics();
  const credentials = new CredentialStore(config.auth.credentialsFile);
  let broker: Aedes | undefined;
  let listeners: Listener[] = [];
  let httpServer: HttpServer | undefined;
  let ingest: IngestPipeline | undefined;
  let state: BrokerState | undefined;

  credentials.on('error', (err) => log.error({ err: err.message }, 'credentials file unusable: nobody can log in until it is fixed'));
  credentials.on('reloaded', (count) => log.info({ count }, 'credentials loaded'));

  return {
    metrics,
    get broker() {
      if (!broker) throw new Error('gateway not listening');
      return broker;
    },
    get ingest() {
      if (!ingest) throw new Error('gateway not listening');
      return ingest;
    },
    async listen() {
      await mkdir(config.dataDir, { recursive: true });
      await credentials.open();
      const pipeline = await createIngest({
        dataDir: config.dataDir,
        log: log.child({ module: 'ingest' }),
        metrics,
        ...(config.influx.url ? { influx: { url: config.influx.url, database: config.influx.database } } : {}),
      });
      ingest = pipeline;
      state = await openBrokerState(config.broker.state, config.dataDir, config.broker.redisUrl, (err) =>
        log.error({ err }, 'retained message not stored'),
      );
      const now = Date.now;
      const limiter = new LoginLimiter({
        maxPerIdentity: config.auth.maxFailuresPerIdentity,
        maxPerSource: config.auth.maxFailuresPerSource,
        windowMs: config.auth.failureWindowS * 1000,
        now,
      });
      const brokerLog = log.child({ module: 'broker' });
      const refusals = createRefusals({ metrics, log: brokerLog, now });
      const created = await createBroker({
        credentials,
        limiter,
        metrics,
        refusals,
        now,
        log: brokerLog,
        ingest: pipeline.ingest,
        mediaQuota: new MediaQuota(config.media.unitBytesPerDay),
        maxConcurrentHandshakes: config.broker.maxConcurrentHandshakes,
        failedLoginDelayMs: config.auth.failedLoginDelayMs,
        options: {
          concurrency: config.broker.concurrency,
          drainTimeout: config.broker.drainTimeoutMs,
          keepaliveLimit: config.broker.keepaliveLimitS,
          connectTimeout: config.broker.connectTimeoutMs,
          heartbeatInterval: config.broker.heartbeatIntervalMs,
          ...state.options,
        },
      });
      const b = created.broker;
      broker = b;
      metrics.gauge('shouwang_gateway_connections', 'Connected MQTT clients', () => b.connectedClients);
      metrics.gauge('shouwang_gateway_credentials', 'Credentials loaded from the credentials file', () => credentials.size);

      const pendingBySource = new SourceSlots(config.auth.maxPendingPerSource);
      metrics.gauge('shouwang_gateway_connections_pending', 'Connections not logged in yet', () => pendingBySource.total);
      listeners = await openListeners(config, (stream, remoteAddress) => {
        const from = remoteAddress ?? 'unknown';
        if (!pendingBySource.take(from)) {
          refusals.reject('pending-per-source', { from });
          stream.destroy();
          return;
        }
        b.handle(
          guardConnection(stream, remoteAddress, {
            maxPacketBytes: MAX_PACKET_BYTES,
            maxConnectBytes: config.auth.maxConnectBytes,
            maxPreAuthBytes: config.auth.maxPreAuthBytes,
            onViolation: (reason) => refusals.reject(reason, { from }),
            onHandshakeOver: () => pendingBySource.give(from),
          }),
        );
      });

      httpServer = createHttpServer((req, res) => {
        if (req.url === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
        } else if (req.url === '/health') {
          const body = { status: 'ok', connections: b.connectedClients, credentials: credentials.size };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        }
      });
      httpServer.listen(config.http.port, config.http.host);
      await once(httpServer, 'listening');

      const port = (name: Listener['name']) => listeners.find((l) => l.name === name)?.port;
      return {
        mqttPort: port('mqtt') as number,
        httpPort: (httpServer.address() as AddressInfo).port,
        ...(port('tls') ? { tlsPort: port('tls') } : {}),
        ...(port('ws') ? { wsPort: port('ws') } : {}),
      };
    },
    async close() {
      credentials.close();
      httpServer?.close();
      httpServer?.closeAllConnections();
      // Stop accepting first, then let Aedes end the sessions; the server's close completes once they are gone.
      const serverClosed = Promise.all(listeners.map((l) => l.close()));
      await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
      await serverClosed;
      await ingest?.close();
      await state?.close();
    },
  };
}
