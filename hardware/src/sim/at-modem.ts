import type { Duplex } from 'node:stream';
import type { Clock } from '../ports.ts';

/**
 * A modem on its AT port. Cellular answers follow 3GPP TS 27.007 (+CSQ §8.5, +CEREG §10.1.22,
 * +COPS §7.3, +CFUN §8.2, +CGSN §5.4); the satellite profile answers as an Iridium 9602/9603
 * ISU does (`+CSQ:<0–5>`, `+CREG`, `AT*R`). Final result codes per ITU-T V.250: OK / ERROR.
 */
export type ModemKind = 'lte' | 'nr' | 'satellite';

export interface ModemState {
  kind: ModemKind;
  rssiDbm: number;
  registered: boolean;
  radioOn: boolean;
  operator: string;
  /** Fault: swallow commands and answer nothing. */
  silent: boolean;
}

export class SimModem {
  readonly state: ModemState;
  readonly #io: Duplex;
  readonly #clock: Clock;
  #buf = '';
  #echo = false;

  constructor(io: Duplex, clock: Clock, kind: ModemKind) {
    this.#io = io;
    this.#clock = clock;
    this.state = {
      kind,
      rssiDbm: kind === 'satellite' ? -112 : -79,
      registered: true,
      radioOn: true,
      operator: 'CHINA MOBILE',
      silent: false,
    };
    io.on('data', (chunk: Buffer) => this.#onData(chunk.toString('latin1')));
  }

  injectGarbage(bytes: string): void {
    this.#write(bytes);
  }

  #write(s: string): void {
    if (!this.#io.destroyed) this.#io.write(s);
  }

  #onData(text: string): void {
    this.#buf += text;
    if (this.#buf.length > 4096) this.#buf = this.#buf.slice(-4096);
    let i = this.#buf.indexOf('\r');
    while (i >= 0) {
      const line = this.#buf.slice(0, i).trim();
      this.#buf = this.#buf.slice(i + 1);
      if (line) this.#command(line);
      i = this.#buf.indexOf('\r');
    }
  }

  #command(line: string): void {
    if (this.state.silent) return;
    const lines = this.#answer(line.toUpperCase());
    const out = `${this.#echo ? `${line}\r\n` : ''}${lines.map((l) => `\r\n${l}\r\n`).join('')}`;
    // Modems answer in milliseconds, not synchronously.
    this.#clock.setTimeout(() => this.#write(out), 5);
  }

  #answer(cmd: string): string[] {
    const s = this.state;
    const sat = s.kind === 'satellite';
    switch (cmd) {
      case 'AT':
        return ['OK'];
      case 'ATE0':
        this.#echo = false;
        return ['OK'];
      case 'ATE1':
        this.#echo = true;
        return ['OK'];
      case 'AT+CGSN':
        return [sat ? '300234010123450' : '861234050123456', 'OK'];
      case 'AT+CSQ': {
        if (sat) return [`+CSQ:${s.radioOn ? Math.max(0, Math.min(5, Math.round((s.rssiDbm + 120) / 2))) : 0}`, 'OK'];
        const n = !s.radioOn ? 99 : Math.max(0, Math.min(31, Math.round((s.rssiDbm + 113) / 2)));
        return [`+CSQ: ${n},99`, 'OK'];
      }
      case 'AT+CEREG?':
        return sat ? ['ERROR'] : [`+CEREG: 0,${s.radioOn && s.registered ? 1 : 2}`, 'OK'];
      case 'AT+CREG?':
        return [`+CREG: 0,${s.radioOn && s.registered ? 1 : 2}`, 'OK'];
      case 'AT+COPS?':
        if (sat) return ['ERROR'];
        return s.radioOn && s.registered ? [`+COPS: 0,0,"${s.operator}",${s.kind === 'nr' ? 11 : 7}`, 'OK'] : ['+COPS: 0', 'OK'];
      case 'AT+CFUN=1':
      case 'AT*R1':
        s.radioOn = true;
        return ['OK'];
      case 'AT+CFUN=4':
      case 'AT+CFUN=0':
      case 'AT*R0':
        s.radioOn = false;
        return ['OK'];
      case 'AT+CFUN?':
        return [`+CFUN: ${s.radioOn ? 1 : 4}`, 'OK'];
      default:
        return ['ERROR'];
    }
  }
}
