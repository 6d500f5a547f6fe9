import type { Duplex } from 'node:stream';
import type { Clock, SerialLink } from '@shouwang/hardware';
import type { PortHealth, PortState } from '@shouwang/protocol';
import type { Logger } from 'pino';

/**
 * Keeps one serial part's port open: opens it, notices when it closes, errors or goes silent, says
 * so once per change (every line names the part and the port), and reopens it with capped
 * exponential backoff, min(2^n × base, cap) (conventions §13). What "silent" means is the part's
 * call (`quiet`): the GPS talks every second on its own; a modem only answers, so its silence is
 * a run of timeouts. Timers are the wall clock: a port's latencies are physical.
 */
export interface PortSupervisorOptions {
  part: 'gps' | 'modem';
  link: SerialLink;
  clock: Clock;
  log: Logger;
  /** Hands each newly opened stream to the driver. */
  attach(stream: Duplex): void;
  /** The port is gone: the driver lets go of it. */
  detach(): void;
  /** True when the part has gone quiet on an open port, given how long since its last byte (checked every `checkMs`). */
  quiet(msSinceData: number): boolean;
  checkMs: number;
  backoffMs?: { base: number; cap: number };
}

export class PortSupervisor {
  private readonly o: PortSupervisorOptions;
  private readonly log: Logger;
  private stream: Duplex | undefined;
  private state_: PortState = 'closed';
  private reopens_ = 0;
  private failures = 0;
  private lastError: string | undefined;
  private timer: unknown;
  private check: unknown;
  private stopped = false;
  private silent = false;
  private lastData = 0;
  /** Whether any byte came on the port as currently opened: only that says a silent part talks again. */
  private dataSinceOpen = false;

  constructor(options: PortSupervisorOptions) {
    this.o = options;
    this.log = options.log.child({ part: options.part, port: options.link.path, baudRate: options.link.baudRate });
  }

  /** A part that fell silent stays `silent` through the reopens it causes, until it talks again. */
  get state(): PortState {
    return this.silent && this.state_ !== 'failed' ? 'silent' : this.state_;
  }

  get reopens(): number {
    return this.reopens_;
  }

  /** Why the port last failed to open (ENOENT, EACCES…), while it stays unopened. */
  get error(): string | undefined {
    return this.state_ === 'failed' ? this.lastError : undefined;
  }

  health(drops: Record<string, number>): PortHealth {
    return { state: this.state, path: this.o.link.path.slice(0, 64), reopens: this.reopens_, drops };
  }

  start(): void {
    void this.open();
    this.check = this.o.clock.setInterval(() => this.watch(), this.o.checkMs);
  }

  /** Lets go of the port and closes it, so an agent restarted in the same process can open it again (serialport locks it). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearInterval(this.check);
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    const open = this.stream !== undefined;
    this.release();
    if (open) await this.o.link.close();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let stream: Duplex;
    try {
      stream = await this.o.link.open();
    } catch (err) {
      this.lastError = (err as Error).message;
      if (this.state_ !== 'failed') this.log.error({ err }, `${this.o.part} port cannot be opened; retrying with backoff`);
      this.set('failed');
      this.retry();
      return;
    }
    if (this.stopped) return;
    this.failures = 0;
    this.stream = stream;
    stream.on('error', (err: Error) => this.log.warn({ err }, `${this.o.part} serial port error`));
    stream.once('close', () => this.lost('closed'));
    stream.on('data', () => {
      this.lastData = this.o.clock.now();
      this.dataSinceOpen = true;
    });
    this.lastData = this.o.clock.now();
    this.dataSinceOpen = false;
    this.o.attach(stream);
    this.set('open');
    if (!this.silent) this.log.info(`${this.o.part} port open`);
  }

  /**
   * Silence is said once; while it lasts the port is reopened each time the part is quiet again on
   * the reopened port, and it ends only when bytes arrive (a freshly opened port proves nothing).
   */
  private watch(): void {
    if (this.state_ !== 'open') return;
    const quiet = this.o.quiet(this.o.clock.now() - this.lastData);
    if (this.silent && this.dataSinceOpen && !quiet) {
      this.log.info(`${this.o.part} talking again`);
      this.silent = false;
      return;
    }
    if (!quiet) return;
    if (!this.silent) this.log.warn(`${this.o.part} silent on an open port; reopening it`);
    this.silent = true;
    this.o.link.close().catch((err: unknown) => this.log.warn({ err }, `${this.o.part} port did not close`));
  }

  /** The port closed under us (or we closed it because it fell silent): reopen after a backoff. */
  private lost(why: 'closed'): void {
    if (this.stopped) return;
    this.release();
    if (this.state_ === 'open' && !this.silent) this.log.warn(`${this.o.part} port ${why}; reopening with backoff`);
    this.set('closed');
    this.retry();
  }

  private release(): void {
    if (!this.stream) return;
    this.stream = undefined;
    this.o.detach();
  }

  private retry(): void {
    if (this.stopped) return;
    const { base, cap } = this.o.backoffMs ?? { base: 1000, cap: 60_000 };
    const delay = Math.min(2 ** this.failures * base, cap);
    this.failures++;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.reopens_++;
      void this.open();
    }, delay);
  }

  private set(state: PortState): void {
    this.state_ = state;
  }
}
