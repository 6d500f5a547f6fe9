import { randomUUID } from 'node:crypto';
import {
  type CommandArgs,
  type CommandName,
  type CommandResponse,
  decodeMessage,
  type ErrorCode,
  encodeRequest,
  filters,
  parseTopic,
  topics,
} from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';

/** Timers the command client waits with; injected so a test can expire a request without waiting. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SendOptions {
  /** How long to wait for the answer, ms. */
  timeoutMs?: number;
  /** Nobody awaits the answer but a log line: the wait does not keep the process alive. */
  background?: boolean;
  /**
   * The unit must not act on the request after this long, ms (it answers SW_ERR_EXPIRED): a reboot
   * queued for a sleeping unit must not fire hours later when nobody is watching. Defaults to the timeout.
   */
  expiresInMs?: number;
}

export class CommandTimeout extends Error {
  constructor(unitId: string, command: string, ms: number) {
    super(`no answer from ${unitId} to ${command} within ${ms} ms`);
    this.name = 'CommandTimeout';
  }
}

interface Pending {
  unitId: string;
  command: CommandName;
  resolve(r: CommandResponse<CommandName>): void;
  timer: unknown;
}

/**
 * Request → response over MQTT (conventions §2): publish on `req/<command>` with a fresh correlation
 * id, resolve with the `res/<command>` that carries the same id from the same unit. One subscription
 * to every unit's responses serves any number of concurrent requests; answers nobody waits for
 * (late, duplicated, malformed) are counted and dropped.
 */
export class CommandClient {
  readonly #client: MqttClient;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  #subscribed: Promise<void> | undefined;
  /** Answers dropped, by reason: a protocol error code, `unsolicited` or `wrong-sender`. */
  readonly dropped = new Map<ErrorCode | 'unsolicited' | 'wrong-sender', number>();

  constructor(client: MqttClient, options: { timers?: Timers; now?: () => number } = {}) {
    this.#client = client;
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? Date.now;
    client.on('message', this.#onMessage);
    client.on('connect', this.#onConnect);
  }

  async send<C extends CommandName>(
    unitId: string,
    command: C,
    args: CommandArgs<C>,
    options: SendOptions = {},
  ): Promise<CommandResponse<C>> {
    return (await this.post(unitId, command, args, options)).answer;
  }

  /** Publishes the request and resolves once the broker has it (PUBACK); the answer comes on `answer`. */
  async post<C extends CommandName>(
    unitId: string,
    command: C,
    args: CommandArgs<C>,
    options: SendOptions = {},
  ): Promise<{ answer: Promise<CommandResponse<C>> }> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    await this.#subscribe();
    const id = randomUUID();
    // JSON has no bytes: a request carrying raw bytes (a recorded talk-down) goes compact, as CBOR byte strings.
    const encoding = Object.values(args as object).some((v) => v instanceof Uint8Array) ? 'compact' : 'json';
    const payload = encodeRequest(command, { id, args, expires: this.#now() + (options.expiresInMs ?? timeoutMs) }, encoding);
    const answer = new Promise<CommandResponse<C>>((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        this.#pending.delete(id);
        reject(new CommandTimeout(unitId, command, timeoutMs));
      }, timeoutMs);
      if (options.background) (timer as { unref?: () => void }).unref?.();
      this.#pending.set(id, { unitId, command, resolve: resolve as Pending['resolve'], timer });
    });
    try {
      // QoS 1: the gateway queues it for a unit whose session persists while its modem sleeps.
      await this.#client.publishAsync(topics.request(unitId, command), Buffer.from(payload), { qos: 1 });
    } catch (err) {
      this.#settle(id);
      throw err;
    }
    return { answer };
  }

  /** Stops listening; requests still waiting are left to their timers. */
  close(): void {
    this.#client.off('message', this.#onMessage);
    this.#client.off('connect', this.#onConnect);
  }

  #subscribe(): Promise<void> {
    this.#subscribed ??= this.#client.subscribeAsync(filters.allResponses(), { qos: 1 }).then(() => undefined);
    return this.#subscribed;
  }

  // A clean session forgets its subscriptions: after a reconnect, take the responses again at once.
  readonly #onConnect = (): void => {
    if (!this.#subscribed) return;
    this.#subscribed = undefined;
    void this.#subscribe().catch(() => undefined);
  };

  #settle(id: string): Pending | undefined {
    const p = this.#pending.get(id);
    if (!p) return undefined;
    this.#timers.clearTimeout(p.timer);
    this.#pending.delete(id);
    return p;
  }

  #drop(reason: ErrorCode | 'unsolicited' | 'wrong-sender'): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  readonly #onMessage = (topic: string, bytes: Buffer): void => {
    const m = decodeMessage(topic, bytes);
    if (!m.ok) {
      // Only responses are ours to judge; other traffic on a shared client is not.
      const t = parseTopic(topic);
      if (t.ok && t.value.type === 'response') this.#drop(m.error.code);
      return;
    }
    if (m.value.type !== 'response') return;
    const p = this.#pending.get(m.value.payload.id);
    if (!p) {
      this.#drop('unsolicited');
      return;
    }
    // A correlation id answered by another unit or on another command is not our answer.
    if (p.unitId !== m.value.unitId || p.command !== m.value.command) {
      this.#drop('wrong-sender');
      return;
    }
    this.#settle(m.value.payload.id);
    p.resolve(m.value.payload);
  };
}
