import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * The radio path between the agent and the gateway, as a TCP proxy on loopback: it forwards
 * bytes both ways at the link's bandwidth and latency, drops every connection and refuses new
 * ones during an outage or while the modem has no network (radio off, no signal, no supply),
 * and counts the bytes (what a SIM plan would bill).
 */
export interface LinkProfile {
  bytesPerSecond: number;
  latencyMs: number;
}

export const LINK_PROFILES = {
  lte: { bytesPerSecond: 2_000_000, latencyMs: 40 },
  nr: { bytesPerSecond: 10_000_000, latencyMs: 15 },
  // Iridium SBD moves ~340 B per message and a message per tens of seconds; a stream this slow stands in for it.
  satellite: { bytesPerSecond: 300, latencyMs: 1500 },
} as const satisfies Record<string, LinkProfile>;

export class LinkShaper {
  readonly profile: LinkProfile;
  bytesUp = 0;
  bytesDown = 0;
  readonly #target: { host: string; port: number };
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #outageUntil = 0;
  #outageTimer: NodeJS.Timeout | undefined;
  #carrier = true;

  constructor(target: { host: string; port: number }, profile: LinkProfile) {
    this.#target = target;
    this.profile = profile;
    this.#server = createServer((s) => this.#accept(s));
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return { host: '127.0.0.1', port: (this.#server.address() as AddressInfo).port };
  }

  get down(): boolean {
    return !this.#carrier || Date.now() < this.#outageUntil;
  }

  /** The modem's network: without it nothing passes, as with an outage, until it returns. */
  setCarrier(up: boolean): void {
    this.#carrier = up;
    if (!up) for (const s of this.#sockets) s.destroy();
  }

  /** Cuts the link for `ms` of real time: open connections die, new ones are refused. */
  outage(ms: number): void {
    this.#outageUntil = Date.now() + ms;
    for (const s of this.#sockets) s.destroy();
    clearTimeout(this.#outageTimer);
    this.#outageTimer = setTimeout(() => {
      this.#outageUntil = 0;
    }, ms);
  }

  async close(): Promise<void> {
    clearTimeout(this.#outageTimer);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => {
        this.#sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => s.destroy());
    }
    this.#pipe(client, upstream, (n) => {
      this.bytesUp += n;
    });
    this.#pipe(upstream, client, (n) => {
      this.bytesDown += n;
    });
  }

  /**
   * Delivers each chunk after the latency plus its serialisation time at the link's rate, in order:
   * one queue per direction drained by one timer. A timer per chunk let two chunks read within the
   * same millisecond swap places (timers start from the event loop's cached time, delays from
   * Date.now()), corrupting the stream under bulk transfers.
   */
  #pipe(from: Socket, to: Socket, count: (n: number) => void): void {
    let busyUntil = 0;
    const queue: { chunk: Buffer; due: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!to.destroyed) to.write(chunk);
      }
      if (from.isPaused() && busyUntil - now < 1000) from.resume();
      const next = queue[0];
      if (next) timer = setTimeout(drain, Math.max(1, next.due - now));
    };
    from.on('close', () => clearTimeout(timer));
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      const now = Date.now();
      busyUntil = Math.max(busyUntil, now) + (chunk.length / this.profile.bytesPerSecond) * 1000;
      const due = busyUntil + this.profile.latencyMs;
      if (due - now > 2000) from.pause(); // a slow link pushes back on the sender
      queue.push({ chunk, due });
      timer ??= setTimeout(drain, Math.max(0, due - now));
    });
  }
}
