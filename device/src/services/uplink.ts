import { EventEmitter } from 'node:events';
import type { Clock } from '@shouwang/hardware';
import {
  type CommandName,
  encodeUplink,
  filters,
  type Presence,
  parseTopic,
  topics,
  UPLINK,
  type UplinkKind,
  type UplinkPayload,
} from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { fitsBudget, type LinkPolicy, publishPacketBytes, utcDay } from '../domain/upload-policy.ts';
import type { BulkLink, BulkSender } from './bulk-sender.ts';
import type { Outbox, OutboxRow } from './outbox.ts';
import { within } from './within.ts';

/**
 * The outbox's way out: MQTT.js at QoS 1. A row leaves the outbox only when its PUBACK arrives
 * ([MQTT-4.3.2]); a drop of the connection returns every unacknowledged row to the queue, to be
 * sent again after reconnecting (the gateway deduplicates on (unit, seq)). Reconnection is ours,
 * not MQTT.js's, so it can back off exponentially with a cap (min(2^n × base, cap)) and keep going
 * after a refused CONNACK, which MQTT.js would otherwise stop at.
 */
export interface UplinkOptions {
  unitId: string;
  url: string;
  password: string;
  keepaliveS: number;
  clock: Clock;
  outbox: Outbox;
  log: Logger;
  /** How the current link may be used; read before every send. */
  policy: () => LinkPolicy;
  presence: () => Omit<Presence, 'state' | 'ts'>;
  /** Rows in flight (sent, not yet PUBACKed); default 64. */
  window?: number;
  backoff?: { baseMs: number; capMs: number };
  /** Creates the client: lazy so the agent does not load MQTT.js before it needs it. */
  connect: (url: string, options: import('mqtt').IClientOptions) => MqttClient;
  /** The bulk lane (media chunks), drained after the messages so it never holds an alarm back. */
  bulk?: BulkSender;
}

export interface UplinkStats {
  sent: number;
  acked: number;
  refused: number;
  connects: number;
  bytesToday: number;
  bytesTotal: number;
}

interface UplinkEvents {
  connected: [];
  request: [CommandName, Buffer];
  drained: [];
}

const BUDGET_DAY = 'sat_budget_day';
const BUDGET_USED = 'sat_budget_used';
const MONTH_KEY = 'month_key';
const MONTH_BYTES = 'month_bytes';

/** Calendar month (UTC) as yyyymm: the data counter resets when it changes, as a SIM plan's does. */
function monthKey(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

export class Uplink extends EventEmitter<UplinkEvents> {
  readonly stats: UplinkStats = { sent: 0, acked: 0, refused: 0, connects: 0, bytesToday: 0, bytesTotal: 0 };
  private readonly o: UplinkOptions;
  private readonly log: Logger;
  private readonly window: number;
  private readonly backoff: { baseMs: number; capMs: number };
  private client: MqttClient | undefined;
  private readonly inflight = new Set<number>();
  /** PUBACKed, not yet deleted: acks are committed in batches (one fsync for many rows). */
  private readonly acked = new Set<number>();
  private ackFlush: NodeJS.Immediate | undefined;
  private attempt = 0;
  private retryTimer: unknown;
  private budgetTimer: unknown;
  private closing = false;
  private closed = false;
  private online = false;
  private listening = false;
  /** The power rung may take the radio down (modem windows); then we neither connect nor retry. */
  private allowed = true;
  /** Callers waiting for a particular row to reach the gateway (commissioning's test upload). */
  private readonly waiting = new Map<number, (() => void)[]>();
  /** MQTT bytes this month, both ways; persisted with each ack batch, so a crash loses at most one batch's count. */
  private month: { key: number; bytes: number; saved: number } | undefined;

  constructor(options: UplinkOptions) {
    super();
    this.o = options;
    this.log = options.log;
    this.window = options.window ?? 64;
    this.backoff = options.backoff ?? { baseMs: 1000, capMs: 5 * 60_000 };
    if (options.bulk) options.bulk.wake = () => this.drain();
  }

  get connected(): boolean {
    return this.online;
  }

  /** Connected and subscribed to this unit's requests (SUBACK received). */
  get ready(): boolean {
    return this.online && this.listening;
  }

  start(): void {
    const { unitId } = this.o;
    const will = encodeUplink('presence', { state: 'offline', ts: this.o.clock.now(), ...this.o.presence() });
    const client = this.o.connect(this.o.url, {
      clientId: unitId,
      username: unitId,
      password: this.o.password,
      keepalive: this.o.keepaliveS,
      protocolVersion: 4,
      // A persistent session ([MQTT-3.1.2-4]): the broker keeps our request subscription and queues
      // QoS 1 commands while the radio is off; a command's `expires` keeps stale ones from running.
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      will: { topic: topics.uplink(unitId, 'presence'), payload: Buffer.from(will), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /**
   * The modem is (or is about to be) powered down by the power manager: disconnect cleanly with
   * `offline` presence and stop retrying; `true` connects again. Queued rows wait in the outbox.
   */
  async setAllowed(allowed: boolean): Promise<void> {
    if (allowed === this.allowed) return;
    this.allowed = allowed;
    this.log.info({ allowed }, allowed ? 'radio window open: connecting' : 'radio window closed: disconnecting');
    const client = this.client;
    if (!client) return;
    if (allowed) {
      if (this.retryTimer !== undefined) this.o.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.attempt = 0;
      // A fresh client per window: an ended MQTT.js client defers reconnect() until its stream has
      // fully closed, which is a race we do not need.
      this.start();
      return;
    }
    if (this.online) await this.sayOffline();
    await endClient(client);
    client.removeAllListeners();
    // The old client may still report a late error (e.g. a connack timeout); it is no longer ours to act on.
    client.on('error', () => undefined);
    this.online = false;
    this.inflight.clear();
    this.o.bulk?.disconnected();
  }

  /** New rows were enqueued: send what the window and the link allow. */
  kick(): void {
    this.drain();
  }

  /** Resolves once the outbox row with this seq has been acknowledged by the gateway. */
  delivered(seq: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(seq, [...(this.waiting.get(seq) ?? []), resolve]);
      this.drain();
    });
  }

  /**
   * MQTT bytes sent and received this calendar month (PUBLISH packets with their headers; TCP/IP
   * and TLS overhead come on top, see the bench's data-use table), for the fleet's budget check.
   */
  bytesMonth(): number {
    return this.monthCounter().bytes;
  }

  /** Publishes outside the outbox (responses, presence): only while connected; resolves on PUBACK. */
  publishDirect(topic: string, payload: Uint8Array, retain = false): Promise<void> {
    const client = this.client;
    if (!client || !this.online) return Promise.reject(new Error('not connected'));
    this.count(publishPacketBytes(topic, payload.length, 1));
    return new Promise((resolve, reject) => {
      client.publish(topic, Buffer.from(payload), { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.ackFlush) clearImmediate(this.ackFlush);
    this.flushAcks();
    if (this.retryTimer !== undefined) this.o.clock.clearTimeout(this.retryTimer);
    if (this.budgetTimer !== undefined) this.o.clock.clearTimeout(this.budgetTimer);
    const client = this.client;
    if (client && this.online) await this.sayOffline();
    this.flushAcks();
    // A pump reading the next chunk finishes before the lane's store closes under it.
    await this.o.bulk?.idle();
    this.o.bulk?.close();
    this.saveMonth();
    this.closed = true;
    if (!client) return;
    await endClient(client);
  }

  /** A clean DISCONNECT suppresses the will ([MQTT-3.14.4-3]), so say offline ourselves first. */
  private async sayOffline(): Promise<void> {
    const bye = encodeUplink('presence', { state: 'offline', ts: this.o.clock.now(), ...this.o.presence() });
    await within(this.publishDirect(topics.uplink(this.o.unitId, 'presence'), bye, true), 2000).catch(() => undefined);
  }

  private onConnect(): void {
    this.online = true;
    this.attempt = 0;
    this.stats.connects++;
    this.log.info({ url: this.o.url, connects: this.stats.connects }, 'connected to gateway');
    const client = this.client;
    if (!client) return;
    const online = encodeUplink('presence', { state: 'online', ts: this.o.clock.now(), ...this.o.presence() });
    const presenceTopic = topics.uplink(this.o.unitId, 'presence');
    this.count(publishPacketBytes(presenceTopic, online.length, 1));
    client.publish(presenceTopic, Buffer.from(online), { qos: 1, retain: true });
    client.subscribe(filters.unitRequests(this.o.unitId), { qos: 1 }, (err) => {
      if (err) this.log.warn({ err }, 'subscribe to requests failed');
      else this.listening = true;
    });
    this.emit('connected');
    this.drain();
  }

  private onClose(): void {
    const was = this.online;
    this.online = false;
    this.listening = false;
    // Whatever was in flight without a PUBACK is still in the outbox; it goes again after reconnecting.
    this.inflight.clear();
    this.o.bulk?.disconnected();
    if (this.closing || !this.allowed) return;
    if (was) this.log.warn({ backlog: this.o.outbox.size().count }, 'connection to gateway lost');
    if (this.retryTimer !== undefined) return;
    const delay = Math.min(2 ** this.attempt * this.backoff.baseMs, this.backoff.capMs);
    this.attempt++;
    this.log.debug({ delayMs: delay, attempt: this.attempt }, 'reconnect scheduled');
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closing && this.allowed) this.client?.reconnect();
    }, delay);
  }

  private onError(err: Error & { code?: number | string }): void {
    if (typeof err.code === 'number' && err.code > 0 && /Connection refused/.test(err.message)) {
      this.stats.refused++;
      // CONNACK return codes 4/5 ([MQTT-3.2.2.3]): wrong credentials or not authorised. Say so plainly;
      // keep retrying at the capped backoff, since an operator can fix the credential remotely.
      this.log.error(
        { code: err.code, reason: err.message, unitId: this.o.unitId, refused: this.stats.refused },
        'gateway refused the connection; check this unit’s MQTT password',
      );
      return;
    }
    this.log.warn({ err: err.message, code: err.code }, 'mqtt connection error');
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed.ok || parsed.value.type !== 'request' || parsed.value.unitId !== this.o.unitId) {
      this.log.warn({ topic }, 'message on an unexpected topic dropped');
      return;
    }
    this.count(publishPacketBytes(topic, payload.length, 1));
    this.emit('request', parsed.value.command, payload);
  }

  private drain(): void {
    const client = this.client;
    if (!client || !this.online || this.closing) return;
    const policy = this.o.policy();
    this.drainMessages(client, policy);
    // After the messages: an alarm enqueued now is on the wire before any further chunk.
    if (this.o.bulk && !this.budgetHeld) this.o.bulk.pump(this.bulkLink(client, policy));
  }

  private drainMessages(client: MqttClient, policy: LinkPolicy): void {
    const free = this.window - this.inflight.size;
    if (free <= 0) return;
    const skip = this.acked.size === 0 ? this.inflight : new Set([...this.inflight, ...this.acked]);
    const rows = this.o.outbox.next(free, { skip, ...(policy.kinds ? { kinds: policy.kinds } : {}) });
    if (rows.length === 0 && this.inflight.size === 0 && this.acked.size === 0) {
      this.emit('drained');
      return;
    }
    for (const row of rows) {
      if (!this.send(client, row, policy)) break;
    }
  }

  private get budgetHeld(): boolean {
    return this.budgetTimer !== undefined;
  }

  private bulkLink(client: MqttClient, policy: LinkPolicy): BulkLink {
    return {
      nominalRate: policy.nominalRate,
      ...(policy.media ? { kinds: policy.media } : {}),
      spend: (wire) => {
        if (policy.dailyBudget === undefined) return true;
        const used = this.usedToday();
        // Media is never an alarm: it stays out of the share held back for alarms.
        if (!fitsBudget(policy, 'event', used, wire)) {
          this.waitForNextDay('event', used);
          return false;
        }
        this.addUsed(wire);
        return true;
      },
      publish: (topic, payload) => {
        // The lane reads a chunk from disk between deciding to send and sending: the connection
        // may have gone meanwhile, and a chunk handed to a closed client would count as in flight
        // with no PUBACK ever to come.
        if (!this.online || this.client !== client) return Promise.reject(new Error('not connected'));
        const wire = publishPacketBytes(topic, payload.length, 1);
        this.stats.bytesTotal += wire;
        this.count(wire);
        return new Promise((resolve, reject) => {
          client.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.length), { qos: 1 }, (err) =>
            err ? reject(err) : resolve(),
          );
        });
      },
    };
  }

  /** Sends one row; false when the day's budget stops the queue. */
  private send(client: MqttClient, row: OutboxRow, policy: LinkPolicy): boolean {
    const kind = row.kind;
    const topic = topics.uplink(this.o.unitId, kind);
    const bytes = encodeUplink(kind, row.payload as UplinkPayload<typeof kind>, policy.encoding);
    const wire = publishPacketBytes(topic, bytes.length, 1);
    if (policy.dailyBudget !== undefined) {
      const used = this.usedToday();
      // Rows come alarms first, so the first that does not fit ends this round.
      if (!fitsBudget(policy, kind, used, wire)) {
        this.waitForNextDay(kind, used);
        return false;
      }
      this.addUsed(wire);
    }
    this.stats.bytesTotal += wire;
    this.count(wire);
    this.inflight.add(row.id);
    this.stats.sent++;
    client.publish(topic, Buffer.from(bytes), { qos: 1, retain: UPLINK[kind].retain }, (err) => {
      this.inflight.delete(row.id);
      if (err) return; // connection dropped before PUBACK: the row stays queued
      this.acked.add(row.id);
      this.stats.acked++;
      const seq = (row.payload as { seq: number }).seq;
      for (const resolve of this.waiting.get(seq) ?? []) resolve();
      this.waiting.delete(seq);
      // A crash between PUBACK and this commit re-sends those rows once: duplicates, never losses.
      this.ackFlush ??= setImmediate(() => this.flushAcks());
    });
    return true;
  }

  private flushAcks(): void {
    this.ackFlush = undefined;
    // After close the outbox may be closed too: late PUBACKs only mean those rows go again next start.
    if (this.acked.size === 0 || this.closed) return;
    this.o.outbox.ack(this.acked);
    this.acked.clear();
    this.saveMonth();
    this.drain();
  }

  private monthCounter(): { key: number; bytes: number; saved: number } {
    const key = monthKey(this.o.clock.now());
    if (!this.month) {
      const bytes = this.o.outbox.getMeta(MONTH_KEY) === key ? (this.o.outbox.getMeta(MONTH_BYTES) ?? 0) : 0;
      this.month = { key, bytes, saved: bytes };
    }
    if (this.month.key !== key) this.month = { key, bytes: 0, saved: -1 };
    return this.month;
  }

  private count(bytes: number): void {
    this.monthCounter().bytes += bytes;
  }

  private saveMonth(): void {
    const m = this.monthCounter();
    if (m.saved === m.bytes) return;
    this.o.outbox.setMeta(MONTH_KEY, m.key);
    this.o.outbox.setMeta(MONTH_BYTES, m.bytes);
    m.saved = m.bytes;
  }

  private usedToday(): number {
    const today = utcDay(this.o.clock.now());
    if (this.o.outbox.getMeta(BUDGET_DAY) !== today) {
      this.o.outbox.setMeta(BUDGET_DAY, today);
      this.o.outbox.setMeta(BUDGET_USED, 0);
    }
    return this.o.outbox.getMeta(BUDGET_USED) ?? 0;
  }

  private addUsed(bytes: number): void {
    const used = this.usedToday() + bytes;
    this.o.outbox.setMeta(BUDGET_USED, used);
    this.stats.bytesToday = used;
  }

  private waitForNextDay(kind: UplinkKind, used: number): void {
    if (this.budgetTimer !== undefined) return;
    const now = this.o.clock.now();
    const wait = (utcDay(now) + 1) * 86_400_000 - now + 1000;
    this.log.info({ kind, usedToday: used, waitMs: wait }, 'daily link budget spent; holding the queue until the next UTC day');
    this.budgetTimer = this.o.clock.setTimeout(() => {
      this.budgetTimer = undefined;
      this.drain();
    }, wait);
  }
}

/** DISCONNECT politely; if the socket is already dead, force the end. */
async function endClient(client: MqttClient): Promise<void> {
  try {
    await within(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), 2000);
  } catch {
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}
