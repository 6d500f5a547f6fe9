import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Clock } from '@shouwang/hardware';
import { Counters } from './counters.ts';

/**
 * AT-command driver (ITU-T V.250 framing, 3GPP TS 27.007 responses). One command is in flight at a
 * time (V.250 §5.2.1: the DCE takes no new command line until it has sent the final result code);
 * the rest queue. Each command has a timeout and a retry budget. Lines that arrive while no command
 * waits for them — or that do not belong to the waiting command — are unsolicited result codes
 * (URCs, e.g. `+CEREG: 5` on a registration change) and are emitted as such. Bytes that are not
 * printable text are counted and dropped.
 */
export type AtDropReason = 'garbage' | 'unexpected' | 'too-long' | 'timeout';

export class AtError extends Error {
  readonly code: 'timeout' | 'error' | 'closed';
  readonly command: string;
  constructor(code: 'timeout' | 'error' | 'closed', command: string, message: string) {
    super(message);
    this.code = code;
    this.command = command;
  }
}

export interface AtOptions {
  clock: Clock;
  /** Default per-attempt timeout; V.250 gives no bound, modules document 300 ms – 180 s per command. */
  timeoutMs?: number;
  retries?: number;
}

interface Pending {
  command: string;
  /** Information lines of this command start with this prefix (`+CSQ` for `AT+CSQ`). */
  prefix: string | undefined;
  lines: string[];
  timeoutMs: number;
  retriesLeft: number;
  resolve: (lines: string[]) => void;
  reject: (err: AtError) => void;
  timer?: unknown;
}

interface AtEvents {
  urc: [string];
  drop: [AtDropReason, string];
}

const FINAL_OK = /^OK$/;
const FINAL_ERROR = /^(ERROR|\+CME ERROR:.*|\+CMS ERROR:.*|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE)$/;
const MAX_LINE = 512;

export class AtModem extends EventEmitter<AtEvents> {
  readonly dropped = new Counters<AtDropReason>();
  private readonly stream: Duplex;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private buf = '';
  private closed = false;

  constructor(stream: Duplex, options: AtOptions) {
    super();
    this.stream = stream;
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.retries = options.retries ?? 2;
    stream.on('data', (chunk: Buffer | string) => this.onData(chunk));
  }

  /** Sends `command` (without the trailing CR) and resolves with its information lines. */
  send(command: string, options: { timeoutMs?: number; retries?: number } = {}): Promise<string[]> {
    if (this.closed) return Promise.reject(new AtError('closed', command, 'modem driver closed'));
    return new Promise((resolve, reject) => {
      const prefix = /^AT([+^$#][A-Z0-9]+)/i.exec(command)?.[1]?.toUpperCase();
      this.queue.push({
        command,
        prefix,
        lines: [],
        timeoutMs: options.timeoutMs ?? this.timeoutMs,
        retriesLeft: options.retries ?? this.retries,
        resolve,
        reject,
      });
      this.next();
    });
  }

  close(): void {
    this.closed = true;
    const all = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.queue.length = 0;
    if (this.current?.timer !== undefined) this.clock.clearTimeout(this.current.timer);
    this.current = undefined;
    for (const p of all) p.reject(new AtError('closed', p.command, 'modem driver closed'));
  }

  private next(): void {
    if (this.current || this.closed) return;
    const p = this.queue.shift();
    if (!p) return;
    this.current = p;
    this.transmit(p);
  }

  private transmit(p: Pending): void {
    p.lines = [];
    p.timer = this.clock.setTimeout(() => this.onTimeout(p), p.timeoutMs);
    this.stream.write(`${p.command}\r`);
  }

  private onTimeout(p: Pending): void {
    if (this.current !== p) return;
    this.dropped.inc('timeout');
    this.emit('drop', 'timeout', p.command);
    if (p.retriesLeft > 0) {
      p.retriesLeft--;
      this.transmit(p);
      return;
    }
    this.finish(p, new AtError('timeout', p.command, `no final result for ${p.command} after retries`));
  }

  private finish(p: Pending, result: string[] | AtError): void {
    if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
    this.current = undefined;
    if (result instanceof AtError) p.reject(result);
    else p.resolve(result);
    this.next();
  }

  private onData(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    // V.250 responses are IA5 text: anything outside printable ASCII + CR/LF is line noise.
    const clean = text.replace(/[^\x20-\x7e\r\n]+/g, (bad) => {
      this.dropped.inc('garbage', bad.length);
      this.emit('drop', 'garbage', bad.slice(0, 16));
      return '';
    });
    this.buf += clean;
    let i = this.buf.search(/[\r\n]/);
    while (i >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (line.length > 0) this.onLine(line);
      i = this.buf.search(/[\r\n]/);
    }
    if (this.buf.length > MAX_LINE) {
      this.dropped.inc('too-long');
      this.emit('drop', 'too-long', this.buf.slice(0, 16));
      this.buf = '';
    }
  }

  private onLine(line: string): void {
    const p = this.current;
    if (p && line.toUpperCase() === p.command.toUpperCase()) return; // echo (ATE1)
    if (p && FINAL_OK.test(line)) {
      this.finish(p, p.lines);
      return;
    }
    if (p && FINAL_ERROR.test(line)) {
      this.finish(p, new AtError('error', p.command, line));
      return;
    }
    if (p?.prefix && line.toUpperCase().startsWith(p.prefix)) {
      p.lines.push(line);
      return;
    }
    // A `+XXX:` line that is not ours is a URC (27.007 §9.2 style); bare text answers commands like ATI.
    if (/^[+^$#][A-Z0-9]+:?/i.test(line)) {
      this.emit('urc', line);
      return;
    }
    if (p && !p.prefix) {
      p.lines.push(line);
      return;
    }
    this.dropped.inc('unexpected');
    this.emit('drop', 'unexpected', line.slice(0, 40));
  }
}
