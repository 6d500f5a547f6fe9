import { type Static, Type } from '@sinclair/typebox';

/** The gateway's whole configuration, defaults inside (file → env SHOUWANG_GATEWAY_* → validate → freeze). */
export const GatewayConfig = Type.Object({
  dataDir: Type.String({ default: '.data/gateway' }),
  mqtt: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1', description: 'Address of the MQTT/TCP listener; 0.0.0.0 to serve the field' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883, description: '0 picks a free port' }),
    },
    { default: {} },
  ),
  tls: Type.Object(
    {
      enabled: Type.Boolean({ default: false }),
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883 }),
      certFile: Type.String({ default: '', description: 'PEM certificate chain' }),
      keyFile: Type.String({ default: '', description: 'PEM private key' }),
    },
    { default: {} },
  ),
  ws: Type.Object(
    {
      enabled: Type.Boolean({ default: false, description: 'MQTT over WebSocket, for browsers and proxies that pass only HTTP' }),
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8083 }),
    },
    { default: {} },
  ),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 9102, description: 'health and Prometheus metrics' }),
    },
    { default: {} },
  ),
  auth: Type.Object(
    {
      credentialsFile: Type.String({ default: '.data/gateway/credentials.json', description: 'issued by the fleet registry; watched' }),
      maxFailuresPerIdentity: Type.Integer({
        minimum: 1,
        default: 5,
        description: 'failed logins for one identity from one source address per window; then that pair is refused unchecked',
      }),
      maxFailuresPerSource: Type.Integer({
        minimum: 1,
        default: 50,
        description: 'failed logins from one source address per window; then only credentials already verified get in',
      }),
      failureWindowS: Type.Integer({ minimum: 1, default: 60 }),
      failedLoginDelayMs: Type.Integer({
        minimum: 0,
        default: 250,
        description: 'a refused login is answered this long after its CONNECT, whatever the account kind (timing tells nothing)',
      }),
      maxPendingPerSource: Type.Integer({
        minimum: 1,
        default: 1000,
        description: 'connections from one source address not logged in yet; more are closed at once',
      }),
      maxConnectBytes: Type.Integer({ minimum: 64, default: 4096, description: 'largest CONNECT packet' }),
      maxPreAuthBytes: Type.Integer({
        minimum: 64,
        default: 16384,
        description: 'bytes a connection may send before its login is accepted',
      }),
    },
    { default: {} },
  ),
  influx: Type.Object(
    {
      url: Type.String({
        default: '',
        description: 'InfluxDB 1.x HTTP API, e.g. http://127.0.0.1:8086; empty keeps readings in the embedded journal only',
      }),
      database: Type.String({ default: 'shouwang' }),
    },
    { default: {} },
  ),
  media: Type.Object(
    {
      unitBytesPerDay: Type.Integer({
        minimum: 1024 * 1024,
        default: 2 * 1024 * 1024 * 1024,
        description: 'media chunk bytes one unit may send per UTC day; past it its chunks are refused (counted) until the next day',
      }),
    },
    { default: {} },
  ),
  broker: Type.Object(
    {
      /** A subscriber that has not drained its socket for this long is cut off, so it cannot stall delivery to others. */
      drainTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
      /** Messages in flight through the broker's emitter before it applies backpressure. */
      concurrency: Type.Integer({ minimum: 1, default: 1000 }),
      maxConcurrentHandshakes: Type.Integer({
        minimum: 1,
        default: 16,
        description: 'MQTT handshakes in flight at once; the rest wait their turn (bounds memory in a reconnect storm)',
      }),
      keepaliveLimitS: Type.Integer({
        minimum: 0,
        default: 1200,
        description: 'a keep-alive of 0 or above this is clamped to it (counted); 0 = any',
      }),
      connectTimeoutMs: Type.Integer({
        minimum: 100,
        default: 30_000,
        description: 'a connection that sends no CONNECT for this long is closed',
      }),
      heartbeatIntervalMs: Type.Integer({
        minimum: 100,
        default: 60_000,
        description:
          "nodes announce themselves this often; a node silent for 3 of them is dead and its clients' Wills are published (checked every 4)",
      }),
      state: Type.Union([Type.Literal('level'), Type.Literal('redis'), Type.Literal('memory')], {
        default: 'level',
        description: 'sessions and queued messages: on disk (level), shared by a cluster (redis), or memory',
      }),
      redisUrl: Type.String({ default: '', description: 'redis://host:port for state = redis (cluster mode)' }),
    },
    { default: {} },
  ),
});
export type GatewayConfig = Static<typeof GatewayConfig>;
