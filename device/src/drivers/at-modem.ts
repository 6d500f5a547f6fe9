import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Clock } from '@shouwang/hardware';
import { Counters } from './counters.ts';

/**
 * AT-command driver (ITU-T V.250 framing, 3GPP TS 27.007 responses). One command is in flight at a
 * time (V.250 §5.2.1: the DCE takes no new command line until it has sent the final result code);
 * the rest queue. Each command has a timeout and a retry budget.
 *
 * A final result code carries no hint of the command it ends, so answers are matched by order and
 * shape, never by "whatever is in flight":
 * - the DCE still owes a final result for every transmission that timed out (it answers in order):
 *   the next final results pay those debts and are discarded as `late` (a debt lapses after
 *   `lateGraceMs`, for the modem that never answered at all);
 * - an information line shaped like the answer to another command (its echo, `+CSQ: …` while
 *   `AT+CEREG?` waits, the read form `+CEREG: <n>,<stat>` while nothing asks for it) opens a foreign
 *   response: the final result after it closes that response, not ours;
 * - a command may name the information line it expects (`expect`): other lines with its prefix are
 *   URCs (`+CEREG: 5` during `AT+CEREG?`).
 * URCs (27.007 §9.2 style `+XXX:` lines that belong to nobody) are emitted; non-printable bytes
 * and stray text are counted and dropped.
 */
export type AtDropReason = 'garbage' | 'unexpected' | 'too-long' | 'timeout' | 'late' | 'unparsable';

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
  /**
   * How long after its timeout a transmission may still be answered late (default: one more
   * timeoutMs). Later than that the modem is in trouble, and the next commands' own timeouts tell.
   */
  lateGraceMs?: number;
}

export interface SendOptions {
  timeoutMs?: number;
  retries?: number;
  /** The information line this command answers with; lines with its prefix that do not match are URCs. */
  expect?: RegExp;
}

interface Pending {
  command: string;
  /** Information lines of this command start with this prefix (`+CSQ` for `AT+CSQ`). */
  prefix: string | undefined;
  expect: RegExp | undefined;
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
const INFO = /^([+^$#][A-Z0-9]+):?/i;
/**
 * Registration lines come both as URCs (`+CEREG: <stat>[,"<tac>",…]`, 27.007 §10.1.22) and as the
 * read answer (`+CEREG: <n>,<stat>[,…]`): the second field, an unquoted number, tells the answer apart.
 */
const REGISTRATION = /^\+C(?:E|5G)?REG:/i;
const REGISTRATION_READ = /^\+C(?:E|5G)?REG:\s*\d+,\d+/i;
const MAX_LINE = 512;
/** Information lines 27.007 (and Quectel, Iridium) define only as answers, never as URCs. */
const ANSWER_ONLY = ['+CSQ', '+CSQF', '+COPS', '+CFUN', '+CGSN', '+CGMI', '+CGMM', '+CGMR', '+CIMI', '+QNWINFO', '+SBDIX', '+SBDS'];

export class AtModem extends EventEmitter<AtEvents> {
  readonly dropped = new Counters<AtDropReason>();
  private stream: Duplex | undefined;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly lateGraceMs: number;
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  /** Transmissions that timed out and may still be answered: whose, and until when. */
  private owed: { by: Pending; until: number }[] = [];
  /** Until when the next final result code closes a foreign response (0: none open). */
  private foreignUntil = 0;
  /** Prefixes known to answer commands (and those of commands sent so far): such a line is never a URC. */
  private readonly answers = new Set<string>(ANSWER_ONLY);
  private buf = '';
  private closed = false;
  private readonly onData = (chunk: Buffer | string) => this.receive(chunk);

  constructor(stream: Duplex | undefined, options: AtOptions) {
    super();
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.retries = options.retries ?? 2;
    this.lateGraceMs = options.lateGraceMs ?? this.timeoutMs;
    if (stream) this.attach(stream);
  }

  /** Starts reading a (re)opened port; whatever was half-received on the previous one is forgotten. */
  attach(stream: Duplex): void {
    this.detach();
    this.stream = stream;
    stream.on('data', this.onData);
    this.next();
  }

  /** The port closed: commands in flight and queued fail as `closed`; new ones too until `attach`. */
  detach(): void {
    this.stream?.off('data', this.onData);
    this.stream = undefined;
    this.buf = '';
    this.owed = [];
    this.foreignUntil = 0;
    this.failAll('modem port closed');
  }

  /** Sends `command` (without the trailing CR) and resolves with its information lines. */
  send(command: string, options: SendOptions = {}): Promise<string[]> {
    if (this.closed) return Promise.reject(new AtError('closed', command, 'modem driver closed'));
    if (!this.stream) return Promise.reject(new AtError('closed', command, 'modem port not open'));
    return new Promise((resolve, reject) => {
      const prefix = /^AT([+^$#][A-Z0-9]+)/i.exec(command)?.[1]?.toUpperCase();
      if (prefix) this.answers.add(prefix);
      this.queue.push({
        command,
        prefix,
        expect: options.expect,
        lines: [],
        timeoutMs: options.timeoutMs ?? this.timeoutMs,
        retriesLeft: options.retries ?? this.retries,
        resolve,
        reject,
      });
      this.next();
    });
  }

  /** An answer arrived but could not be read: counted with the rest of the driver's drops. */
  unparsable(command: string, line: string | undefined): void {
    this.dropped.inc('unparsable');
    this.emit('drop', 'unparsable', `${command}: ${(line ?? '(no line)').slice(0, 40)}`);
  }

  close(): void {
    this.closed = true;
    this.detach();
  }

  private failAll(why: string): void {
    const all = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.queue.length = 0;
    if (this.current?.timer !== undefined) this.clock.clearTimeout(this.current.timer);
    this.current = undefined;
    for (const p of all) p.reject(new AtError('closed', p.command, why));
  }

  private next(): void {
    if (this.current || this.closed || !this.stream) return;
    const p = this.queue.shift();
    if (!p) return;
    this.current = p;
    this.transmit(p);
  }

  private transmit(p: Pending): void {
    p.lines = [];
    p.timer = this.clock.setTimeout(() => this.onTimeout(p), p.timeoutMs);
    this.stream?.write(`${p.command}\r`);
  }

  private onTimeout(p: Pending): void {
    if (this.current !== p) return;
    this.drop('timeout', p.command);
    this.owed.push({ by: p, until: this.clock.now() + this.lateGraceMs });
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

  private receive(chunk: Buffer | string): void {
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
      this.drop('too-long', this.buf);
      this.buf = '';
    }
  }

  private onLine(line: string): void {
    const p = this.current;
    const upper = line.toUpperCase();
    if (p && upper === p.command.toUpperCase()) return; // our echo (ATE1)
    if (FINAL_OK.test(line) || FINAL_ERROR.test(line)) {
      this.onFinal(p, line);
      return;
    }
    if (/^AT/i.test(line)) {
      // Another command's echo: the start of a response that is not ours.
      this.foreignUntil = this.clock.now() + this.lateGraceMs;
      this.drop('unexpected', line);
      return;
    }
    const info = INFO.exec(line)?.[1]?.toUpperCase();
    if (p && info && info === p.prefix && (p.expect ? p.expect.test(line) : !REGISTRATION.test(line) || REGISTRATION_READ.test(line))) {
      p.lines.push(line);
      this.foreignUntil = 0;
      return;
    }
    if (info) {
      if (this.answerShaped(info, line)) {
        this.foreignUntil = this.clock.now() + this.lateGraceMs;
        this.drop('unexpected', line);
        return;
      }
      this.emit('urc', line);
      return;
    }
    // Bare text answers commands like ATI; outside one it is stray.
    if (p && !p.prefix) {
      p.lines.push(line);
      return;
    }
    this.drop('unexpected', line);
  }

  private onFinal(p: Pending | undefined, line: string): void {
    const now = this.clock.now();
    this.owed = this.owed.filter((o) => o.until > now);
    // Debts of the command in flight do not count: a late answer to its own earlier attempt is as good.
    const earlier = this.owed.findIndex((o) => o.by !== p);
    if (this.foreignUntil > now || earlier >= 0) {
      // Closes a response that is not ours: a late answer, or a stray one (a leftover, an echoed line).
      this.foreignUntil = 0;
      if (earlier >= 0) this.owed.splice(earlier, 1);
      this.drop('late', line);
      return;
    }
    if (!p) {
      this.drop('unexpected', line);
      return;
    }
    if (FINAL_OK.test(line)) this.finish(p, p.lines);
    else this.finish(p, new AtError('error', p.command, line));
  }

  /** The line answers a command (one we have sent, or a registration read), so it is not unsolicited. */
  private answerShaped(info: string, line: string): boolean {
    if (REGISTRATION.test(line)) return REGISTRATION_READ.test(line);
    return this.answers.has(info);
  }

  private drop(reason: AtDropReason, sample: string): void {
    this.dropped.inc(reason);
    this.emit('drop', reason, sample.slice(0, 40));
  }
}
