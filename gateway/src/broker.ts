import { type DecodedMessage, decodeAtTopic, kindOfAcceptedTopic, MAX_TOPIC_LEVELS, parseTopic } from '@shouwang/protocol';
import { Aedes, type AedesOptions, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { CredentialStore } from './credentials.ts';
import { mayPublish, maySubscribe, type Principal, principalFor, principalName } from './domain/access.ts';
import { HandshakeGate } from './domain/handshake-gate.ts';
import type { LoginLimiter } from './domain/login-limiter.ts';
import type { Metrics } from './metrics.ts';

/**
 * Aedes's callback hooks, wrapped once, here. Everything that decides who may connect, publish
 * and subscribe passes through this file.
 */

/**
 * Where accepted data goes before the unit gets its PUBACK: `done` once stored or durably queued
 * (at once for what is not kept: presence, responses). `bytes` is the payload as received, which
 * `message` was decoded from. A callback, as Aedes's hooks are: this runs for every PUBLISH, and
 * a promise chain per message was measurable allocation.
 */
export type Ingest = (message: DecodedMessage, bytes: Buffer, done: (err: Error | null) => void) => void;

export interface BrokerDeps {
  credentials: CredentialStore;
  limiter: LoginLimiter;
  metrics: Metrics;
  log: Logger;
  ingest: Ingest;
  /** MQTT handshakes in flight at once (domain/handshake-gate.ts). */
  maxConcurrentHandshakes: number;
  options: Pick<AedesOptions, 'concurrency' | 'drainTimeout' | 'keepaliveLimit' | 'persistence' | 'mq' | 'id'>;
}

/**
 * Payloads that fail validation are acknowledged and discarded ([MQTT-3.3.5-2] allows either
 * that or closing the connection). Closing would make a unit with a bug resend the same message
 * forever from its outbox, a poison loop that burns a satellite budget. The discarded packet is
 * re-addressed here, a topic no client may subscribe to, and never retained.
 */
export const QUARANTINE_TOPIC = '$shouwang/quarantine';

type AuthError = Error & { returnCode: number };
function authError(message: string, returnCode: 2 | 3 | 4 | 5): AuthError {
  return Object.assign(new Error(message), { returnCode });
}

export async function createBroker(deps: BrokerDeps): Promise<{ broker: Aedes; principals: WeakMap<Client, Principal> }> {
  const { credentials, limiter, metrics, log } = deps;
  const principals = new WeakMap<Client, Principal>();
  const connects = new WeakMap<Client, Pick<ConnectPacket, 'clientId' | 'clean'>>();
  const authFail = metrics.counter('shouwang_gateway_auth_failures_total', 'Refused logins by reason', ['reason']);
  const rejected = metrics.counter('shouwang_gateway_rejects_total', 'Refused publishes and subscriptions by reason', ['reason']);
  const accepted = metrics.counter('shouwang_gateway_messages_in_total', 'Accepted publishes by kind', ['kind']);
  const forwarded = metrics.counter('shouwang_gateway_messages_out_total', 'Publishes delivered to subscribers by kind', ['kind']);

  const gate = new HandshakeGate<Client>(deps.maxConcurrentHandshakes);
  metrics.gauge('shouwang_gateway_handshakes_waiting', 'MQTT handshakes queued behind the ones in flight', () => gate.queued);

  const source = (client: Client) => (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown';

  async function authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const from = source(client);
    const connect = connects.get(client);
    // [MQTT-3.1.3-8]: a zero-length client id with CleanSession=0 must be refused (rc 2). Aedes lets it through.
    if (connect && connect.clientId === '' && !connect.clean) {
      authFail('empty-client-id');
      throw authError('empty client id with a persistent session', 2);
    }
    if (limiter.blocked(from)) {
      authFail('rate-limited');
      throw authError('too many failed logins from this address', 3);
    }
    const ok = username && password ? await credentials.verify(username, password.toString('utf8')) : undefined;
    const principal = ok && username ? principalFor(username, ok.service) : undefined;
    if (!principal) {
      limiter.fail(from);
      authFail('bad-credentials');
      log.warn({ username, from }, 'login refused');
      throw authError('bad username or password', 4);
    }
    if (principal.kind === 'unit' && client.id !== principal.unitId) {
      authFail('client-id-mismatch');
      throw authError('a unit connects with its unit id as client id', 2);
    }
    limiter.succeed(from);
    principals.set(client, principal);
  }

  function authorizePublish(client: Client | null, packet: PublishPacket, done: (err: Error | null) => void): void {
    const principal = client ? principals.get(client) : undefined;
    const topic = parseTopic(packet.topic);
    // client is null only for a will whose owner is gone: it was authorised when registered.
    if (client && (!principal || !mayPublish(principal, topic))) {
      rejected('acl');
      log.warn({ who: principal && principalName(principal), topic: packet.topic }, 'publish outside ACL: disconnecting');
      done(new Error('publish not authorised'));
      return;
    }
    const bytes = packet.payload as Buffer;
    const decoded = topic.ok ? decodeAtTopic(topic.value, bytes) : topic;
    if (!decoded.ok) {
      rejected(decoded.error.code);
      log.info({ who: principal && principalName(principal), topic: packet.topic, error: decoded.error }, 'invalid payload discarded');
      packet.topic = QUARANTINE_TOPIC;
      packet.retain = false;
      done(null);
      return;
    }
    const m = decoded.value;
    accepted(m.type === 'uplink' ? m.kind : m.type);
    deps.ingest(m, bytes, done);
  }

  function authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const principal = principals.get(client);
    if (!principal || !maySubscribe(principal, sub.topic)) {
      rejected('subscribe-acl');
      log.warn({ who: principal && principalName(principal), filter: sub.topic }, 'subscription refused');
      return null; // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
    }
    return sub;
  }

  const broker = await Aedes.createBroker({
    ...deps.options,
    // No topic or filter deeper than the protocol's namespace can match anything we accept (Aedes's
    // own $SYS topics are 4 levels), so Aedes refuses deeper ones before they reach its topic tries.
    maxTopicLevels: MAX_TOPIC_LEVELS,
    preConnect: (client, packet, done) => {
      connects.set(client, { clientId: packet.clientId, clean: packet.clean });
      // Left once the CONNACK is written or the connection closes. Queued messages flow after it,
      // outside the gate: a unit on a slow link draining its queue must not hold a slot.
      client.conn.once('close', () => gate.leave(client));
      gate.enter(client, () => done(null, true));
    },
    authenticate: (client, username, password, done) => {
      authenticate(client, username, password).then(
        () => done(null, true),
        (err: AuthError) => done(err, false),
      );
    },
    authorizePublish,
    authorizeSubscribe: (client, sub, done) => done(null, authorizeSubscribe(client, sub)),
    authorizeForward: (_client, packet) => {
      forwarded(kindOf(packet.topic));
      return packet;
    },
  });

  // Revocation takes effect at once: end the sessions of every client whose credential went away or changed.
  credentials.on('revoked', (names) => {
    const gone = new Set(names);
    for (const client of Object.values((broker as unknown as { clients: Record<string, Client> }).clients)) {
      const p = principals.get(client);
      if (p && gone.has(principalName(p))) {
        log.info({ who: principalName(p) }, 'credential revoked: disconnecting');
        client.close();
      }
    }
  });

  broker.on('connackSent', (_packet, client) => gate.leave(client));
  broker.on('clientError', (client, err) => {
    // Aedes checks depth before any hook runs, so its error is the only place to count the refusal.
    if (err.message === 'topic has too many levels') rejected('topic-too-deep');
    log.debug({ client: client?.id, err: err.message }, 'client error');
  });
  broker.on('connectionError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'connection error'));
  return { broker, principals };
}

/** Metric label for a delivered topic: the uplink kind, request/response, or `$SYS`. Runs per delivery. */
function kindOf(topic: string): string {
  return topic.startsWith('$') ? '$SYS' : (kindOfAcceptedTopic(topic) ?? 'other');
}
