import type { EventEmitter } from 'node:events';
import { type DecodedMessage, decodeAtTopic, kindOfAcceptedTopic, MAX_TOPIC_LEVELS, parseTopic } from '@shouwang/protocol';
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { CredentialStore } from './credentials.ts';
import { mayPublish, maySubscribe, type Principal, principalFor, principalName } from './domain/access.ts';
import { GrantedQos } from './domain/granted-qos.ts';
import { HandshakeGate } from './domain/handshake-gate.ts';
import type { LoginLimiter } from './domain/login-limiter.ts';
import type { MediaQuota } from './domain/media-quota.ts';
import type { Metrics } from './metrics.ts';
import type { Refusals } from './refusals.ts';

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
  refusals: Refusals;
  /** Media chunk bytes per unit per day (domain/media-quota.ts). */
  mediaQuota: MediaQuota;
  /** MQTT handshakes in flight at once (domain/handshake-gate.ts). */
  maxConcurrentHandshakes: number;
  /** A refused login is answered no sooner than this after its CONNECT, whatever the account kind. */
  failedLoginDelayMs: number;
  now: () => number;
  options: Pick<
    AedesOptions,
    'concurrency' | 'drainTimeout' | 'keepaliveLimit' | 'connectTimeout' | 'persistence' | 'mq' | 'id' | 'heartbeatInterval'
  >;
}

/**
 * Payloads that fail validation are acknowledged and discarded ([MQTT-3.3.5-2] allows either
 * that or closing the connection). Closing would make a unit with a bug resend the same message
 * forever from its outbox, a poison loop that burns a satellite budget. The discarded packet is
 * re-addressed here, a topic no client may subscribe to, and never retained.
 */
export const QUARANTINE_TOPIC = '$shouwang/quarantine';

/**
 * Who registered a Will, stamped on it at CONNECT. Aedes's persistence stores the Will packet
 * whole, so the owner travels with it: a Will published later by the broker on its own (after a
 * crash, by another cluster node) is authorised against its owner, not against whichever
 * client happens to hold that client id now, or none.
 */
const WILL_OWNER = 'shouwangOwner';
type OwnedWill = PublishPacket & { [WILL_OWNER]?: unknown };

type AuthError = Error & { returnCode: number };
function authError(message: string, returnCode: 2 | 3 | 4 | 5): AuthError {
  return Object.assign(new Error(message), { returnCode });
}

interface PendingConnect {
  clientId: string;
  clean: boolean;
  will: OwnedWill | undefined;
  at: number;
}

export async function createBroker(deps: BrokerDeps): Promise<{ broker: Aedes; principals: WeakMap<Client, Principal> }> {
  const { credentials, limiter, metrics, log, refusals } = deps;
  const principals = new WeakMap<Client, Principal>();
  const connects = new WeakMap<Client, PendingConnect>();
  const accepted = metrics.counter('shouwang_gateway_messages_in_total', 'Accepted publishes by kind', ['kind']);
  const forwarded = metrics.counter('shouwang_gateway_messages_out_total', 'Publishes delivered to subscribers by kind', ['kind']);

  const gate = new HandshakeGate<Client>(deps.maxConcurrentHandshakes);
  metrics.gauge('shouwang_gateway_handshakes_waiting', 'MQTT handshakes queued behind the ones in flight', () => gate.queued);

  const source = (client: Client) => (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown';
  const keepaliveLimit = deps.options.keepaliveLimit ?? 0;

  async function authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const from = source(client);
    const connect = connects.get(client);
    const refuse = async (reason: string, message: string, code: 2 | 3 | 4 | 5): Promise<never> => {
      refusals.login(reason, { client: client.id, username, from });
      // Every refusal leaves at the same time after its CONNECT, so timing does not tell an
      // unknown name from a unit or a service (their hashes cost 0, ~3 and ~40 ms to check).
      // The handshake slot is given back first: a refused login must not hold up the others.
      gate.leave(client);
      const wait = (connect?.at ?? deps.now()) + deps.failedLoginDelayMs - deps.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      throw authError(message, code);
    };
    // [MQTT-3.1.3-8]: a zero-length client id with CleanSession=0 must be refused (rc 2). Aedes lets it through.
    if (connect && connect.clientId === '' && !connect.clean)
      return refuse('empty-client-id', 'empty client id with a persistent session', 2);
    const name = username ?? '';
    const secret = password?.toString('utf8') ?? '';
    const verdict = limiter.verdict(name, from);
    const ok =
      username === undefined || password === undefined
        ? undefined
        : verdict === 'check'
          ? await credentials.verify(name, secret)
          : credentials.verifyCached(name, secret);
    const principal = ok ? principalFor(name, ok.service) : undefined;
    if (!principal) {
      // From a suspect source only failures against real identities are remembered: a flood of
      // made-up names must not grow the limiter without bound.
      if (verdict === 'check' || credentials.has(name)) limiter.fail(name, from);
      if (verdict !== 'check') return refuse('rate-limited', `too many failed logins (${verdict})`, 3);
      return refuse('bad-credentials', 'bad username or password', 4);
    }
    if (principal.kind === 'unit' && client.id !== principal.unitId) {
      return refuse('client-id-mismatch', 'a unit connects with its unit id as client id', 2);
    }
    limiter.succeed(name, from);
    const will = connect?.will;
    if (will) {
      const why = willRefusal(principal, will);
      if (why) return refuse(why, 'will refused', 5);
      will[WILL_OWNER] = ownerTag(principal);
    }
    principals.set(client, principal);
  }

  function authorizePublish(client: Client | null, packet: OwnedWill, done: (err: Error | null) => void): void {
    const owner = packet[WILL_OWNER];
    // A Will is one of ours (stamped at CONNECT) or one Aedes publishes with no client, found in
    // its store after a crash: without a stamp it has no owner we can check, and goes nowhere.
    const isWill = owner !== undefined || client === null;
    const principal = isWill ? principalOfTag(owner) : principals.get(client as Client);
    const topic = parseTopic(packet.topic);
    const who = principal && principalName(principal);
    if (!principal || !mayPublish(principal, topic)) {
      if (isWill) {
        // Refused by quarantine, not by error: Aedes's sweep of a dead node's Wills treats an
        // error as its own failure (it would retry the Will every sweep and emit an error).
        refusals.reject('will-acl', { client: client?.id ?? (packet as { clientId?: string }).clientId, who, topic: packet.topic });
        quarantine(packet);
        done(null);
        return;
      }
      refusals.reject('acl', { client: client?.id, who, topic: packet.topic });
      done(new Error('publish not authorised'));
      return;
    }
    const bytes = packet.payload as Buffer;
    const decoded = topic.ok ? decodeAtTopic(topic.value, bytes) : topic;
    if (!decoded.ok) {
      refusals.reject(decoded.error.code, { client: client?.id, who, topic: packet.topic, error: decoded.error });
      quarantine(packet);
      done(null);
      return;
    }
    const m = decoded.value;
    if (m.type === 'chunk' && !deps.mediaQuota.take(m.unitId, bytes.length, deps.now())) {
      refusals.reject('media-quota', { client: client?.id, who, topic: packet.topic });
      quarantine(packet);
      done(null);
      return;
    }
    accepted(m.type === 'uplink' ? m.kind : m.type);
    deps.ingest(m, bytes, done);
  }

  function authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const principal = principals.get(client);
    if (!principal || !maySubscribe(principal, sub.topic)) {
      refusals.reject('subscribe-acl', { client: client.id, who: principal && principalName(principal), filter: sub.topic });
      return null; // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
    }
    return sub;
  }

  const grants = new GrantedQos<Client>((c) => (c as unknown as { subscriptions: Record<string, { qos: number }> }).subscriptions);

  /**
   * The last word on every delivery — live, retained, or queued for an offline session. Aedes
   * hands mqtt-packet whatever it stored; a packet mqtt-packet cannot encode (a QoS of 3 from a
   * malformed Will) throws in its writer, which Aedes answers by disconnecting the *subscriber*,
   * again on every reconnect while the message stays retained. So nothing that is not a valid
   * PUBLISH leaves, and its QoS is the subscription's when that is lower ([MQTT-3.8.4-6]):
   * Aedes applies the granted QoS only to exact-topic subscriptions, never through a wildcard.
   */
  function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const q = packet.qos as number;
    const topic = packet.topic;
    if (
      (q !== 0 && q !== 1 && q !== 2) ||
      typeof topic !== 'string' ||
      topic.length === 0 ||
      topic.includes('+') ||
      topic.includes('#') ||
      !(Buffer.isBuffer(packet.payload) || typeof packet.payload === 'string')
    ) {
      refusals.reject('undeliverable', { client: client.id, topic: String(topic), qos: q });
      return null;
    }
    forwarded(kindOf(topic));
    if (q > grants.floor(client)) packet.qos = grants.forTopic(client, topic, q) as PublishPacket['qos'];
    return packet;
  }

  const broker = await Aedes.createBroker({
    ...deps.options,
    // No topic or filter deeper than the protocol's namespace can match anything we accept (Aedes's
    // own $SYS topics are 4 levels), so Aedes refuses deeper ones before they reach its topic tries.
    maxTopicLevels: MAX_TOPIC_LEVELS,
    preConnect: (client, packet, done) => {
      // Keep-alive 0 or above the limit is clamped to the limit: MQTT 3.1.1 has no return code
      // for it (Aedes would answer CONNACK 6, which the spec does not define, [MQTT-3.2.2-6]),
      // and the limit exists to reap silent connections, which the clamp still does.
      const keepalive = packet.keepalive ?? 0;
      if (keepaliveLimit > 0 && (keepalive === 0 || keepalive > keepaliveLimit)) {
        refusals.clamped('keepalive-clamped', { client: packet.clientId, asked: keepalive, limit: keepaliveLimit });
        packet.keepalive = keepaliveLimit;
      }
      connects.set(client, {
        clientId: packet.clientId,
        clean: packet.clean !== false,
        will: packet.will as OwnedWill | undefined,
        at: deps.now(),
      });
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
    authorizeForward,
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
  broker.on('subscribe', (_subs, client) => grants.changed(client));
  broker.on('unsubscribe', (_subs, client) => grants.changed(client));
  // A connection cut by Aedes reports the error once per pending write (a drain timeout with 100
  // deliveries queued is 100 errors): the first one is the refusal.
  const ended = new WeakSet<Client>();
  const onError = (client: Client | null, err: Error & { code?: string; errorCode?: number }) => {
    if (client) {
      if (ended.has(client)) return;
      ended.add(client);
    }
    const reason = refusalOf(err);
    if (reason) refusals.reject(reason, { client: client?.id, from: client ? source(client) : undefined, err: err.message });
    else log.debug({ client: client?.id, err }, 'connection ended');
  };
  broker.on('clientError', onError);
  broker.on('connectionError', onError);
  // Aedes's own failures (its sweep of dead nodes' Wills, its persistence) would otherwise be an
  // unhandled 'error' event, which ends the process.
  (broker as EventEmitter).on('error', (err: Error) => log.error({ err }, 'broker error'));
  return { broker, principals };
}

function quarantine(packet: PublishPacket): void {
  packet.topic = QUARANTINE_TOPIC;
  packet.retain = false;
}

function ownerTag(p: Principal): string {
  return `${p.kind}:${principalName(p)}`;
}

function principalOfTag(tag: unknown): Principal | undefined {
  if (typeof tag !== 'string') return undefined;
  const colon = tag.indexOf(':');
  const kind = tag.slice(0, colon);
  return colon > 0 && (kind === 'unit' || kind === 'service') ? principalFor(tag.slice(colon + 1), kind === 'service') : undefined;
}

/** Why a Will may not be registered: the connection's principal could not publish it itself. */
function willRefusal(principal: Principal, will: PublishPacket): string | undefined {
  if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2) return 'will-qos';
  const topic = parseTopic(will.topic);
  if (!mayPublish(principal, topic)) return 'will-acl';
  if (!topic.ok || !decodeAtTopic(topic.value, will.payload as Buffer).ok) return 'will-payload';
  return undefined;
}

/**
 * What an error Aedes reports on a connection was, as a refusal reason; `undefined` for a
 * connection that simply ended (socket errors carry a `code`) or a CONNACK refusal the
 * authenticate hook has already counted (return codes 2–5).
 */
function refusalOf(err: Error & { code?: string; errorCode?: number }): string | undefined {
  if (err.code !== undefined) return undefined;
  if (err.errorCode !== undefined) {
    if (err.errorCode === 1) return 'connect-protocol-level';
    // Aedes's own return code 2 (an MQTT 3.1 client id over 23 characters); ours carry our messages.
    if (err.errorCode === 2 && err.message === 'identifier rejected') return 'client-id-rejected';
    return err.errorCode === 6 ? 'keepalive' : undefined;
  }
  const m = err.message;
  for (const [text, reason] of AEDES_ERRORS) if (m.startsWith(text)) return reason;
  if (m === 'bad user name or password' || m === 'not authorized') return undefined;
  return /subscribe/i.test(m) ? 'subscribe-malformed' : 'packet-malformed';
}

/** Aedes's and mqtt-packet's error messages (aedes lib/client.js, lib/handlers/*, mqtt-packet parser.js) by reason. */
const AEDES_ERRORS: [string, string | undefined][] = [
  ['connect did not arrive in time', 'connect-timeout'],
  ['drain timeout', 'drain-timeout'],
  ['keep alive timeout', 'keepalive-timeout'],
  ['# is not allowed in PUBLISH', 'publish-wildcard'],
  ['+ is not allowed in PUBLISH', 'publish-wildcard'],
  ['empty topic not allowed in PUBLISH', 'publish-empty-topic'],
  ['topic has too many levels', 'topic-too-deep'],
  ['Client queue limit reached', 'pre-auth-queue'],
  ['Invalid protocol', 'protocol-violation'],
  ['maxInflightInbound exceeded', 'qos2-inflight'],
  ['packet received not valid', 'write-failed'],
  // Counted where they arise: the ACL refusal in authorizePublish; a close is not a refusal.
  ['publish not authorised', undefined],
  ['connection closed', undefined],
];

/** Metric label for a delivered topic: the uplink kind, request/response, or `$SYS`. Runs per delivery. */
function kindOf(topic: string): string {
  return topic.startsWith('$') ? '$SYS' : (kindOfAcceptedTopic(topic) ?? 'other');
}
