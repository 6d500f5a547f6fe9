import type { Duplex } from 'node:stream';
import type { Clock } from '../ports.ts';

/**
 * A modem on its AT port. Cellular answers follow 3GPP TS 27.007 (+CSQ §8.5, +CEREG §10.1.22,
 * +CREG §7.2, +COPS §7.3 with <AcT> 7 = E-UTRAN and 11 = NR on 5GCN, +CFUN §8.2, +CGSN §5.4);
 * URCs on registration change once +CREG=<n>/+CEREG=<n> ≥ 1, Quectel's AT+QNWINFO for the access
 * technology; the satellite profile answers as an Iridium 9602/9603 ISU does (`+CSQ:<0–5>` without
 * a space, `+CREG:<n>,<stat>`, `AT*R0/1` radio activity, +CGSN = IMEI, SBD: +SBDWT, +SBDIX,
 * +SBDS, +SBDD). Framing per ITU-T V.250: a
 * command line ends in CR (S3); with echo on (the power-on default, §6.2.4) the line is echoed;
 * each response is `\r\n<text>\r\n`; the final result code is OK or ERROR.
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
  /** Supply present; an unpowered module answers nothing and forgets its volatile settings. */
  powered: boolean;
}

/** Below this the module cannot hold a cell (27.007 rssi 0 is "≤ −113 dBm"): it searches instead. */
const CELL_FLOOR_DBM = -113;
/** An Iridium ISU needs about one bar to register. */
const SAT_FLOOR_DBM = -118;
/** An SBD session: registration plus the burst, typically 5–20 s with a clear sky. */
const SBD_SESSION_MS = 8000;
/** Iridium 9602/9603 mobile-originated buffer, bytes. */
export const SBD_MO_MAX = 340;
/** The serving cell the cellular profile camps on (China Mobile, Harbin-style TAC/cell id). */
const CELL = { mccMnc: '46000', tac: '5A1F', ci: '0B3C4D21' } as const;

export class SimModem {
  readonly state: ModemState;
  #io: Duplex;
  readonly #clock: Clock;
  #buf = '';
  #echo: boolean;
  #truncateNext = false;
  /** Faults: answers held back this long; text written just before the next answer; commands answered without their information lines. */
  #delayMs = 0;
  readonly #stray = new Map<string, string>();
  readonly #bare = new Set<string>();
  readonly #urc = { creg: 0, cereg: 0 };
  #lastStat: number;
  /** Told whenever the module gains or loses its network (radio, signal, supply): the data path follows it. */
  onAttachChange: ((attached: boolean) => void) | undefined;
  /** The SBD side of the satellite profile: MO buffer, sequence number, what reached the gateway. */
  readonly sbd: { mo: string | undefined; momsn: number; sent: string[]; bytesSent: number } = {
    mo: undefined,
    momsn: 0,
    sent: [],
    bytesSent: 0,
  };

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
      powered: true,
    };
    // Most deployed module configs store ATE0 in the profile; drivers must cope with either.
    this.#echo = false;
    this.#lastStat = this.#stat();
    this.connect(io);
  }

  /** The AT port was reopened: a half-received command line on the old one is gone. */
  connect(io: Duplex): void {
    this.#io = io;
    this.#buf = '';
    io.on('data', (chunk: Buffer) => this.#onData(chunk.toString('latin1')));
  }

  /** Whether the module is camped on a cell / the constellation right now. */
  get attached(): boolean {
    const floor = this.state.kind === 'satellite' ? SAT_FLOOR_DBM : CELL_FLOOR_DBM;
    return this.state.powered && this.state.radioOn && this.state.registered && this.state.rssiDbm > floor;
  }

  injectGarbage(bytes: string): void {
    this.#write(bytes);
  }

  /** The next answer is cut off part-way (a UART FIFO overrun, a module reset mid-reply). */
  truncateNext(): void {
    this.#truncateNext = true;
  }

  /** Every answer goes out `ms` late (a busy module, a congested USB serial bridge); 0 restores. */
  delayAnswers(ms: number): void {
    this.#delayMs = Math.max(0, ms);
  }

  /** `text` (unsolicited lines, an echo, a leftover answer) goes out just before the next answer to `command`. */
  strayBefore(command: string, text: string): void {
    const key = command.toUpperCase();
    this.#stray.set(key, (this.#stray.get(key) ?? '') + text);
  }

  /** `command` is answered with its final result only, its information line left out (firmware that does so). */
  answerBare(command: string, bare: boolean): void {
    if (bare) this.#bare.add(command.toUpperCase());
    else this.#bare.delete(command.toUpperCase());
  }

  #write(s: string): void {
    if (!this.#io.destroyed) this.#io.write(s);
  }

  #onData(text: string): void {
    this.#buf += text;
    if (this.#buf.length > 4096) this.#buf = this.#buf.slice(-4096);
    let i = this.#buf.indexOf('\r');
    while (i >= 0) {
      const line = this.#buf.slice(0, i).replace(/^\n+/, '');
      this.#buf = this.#buf.slice(i + 1);
      if (line.trim()) this.#command(line.trim());
      i = this.#buf.indexOf('\r');
    }
  }

  /** Supply cut or restored: a module coming back boots with its stored profile (echo off, no URCs, radio on). */
  setPowered(on: boolean): void {
    this.state.powered = on;
    if (!on) {
      this.#urc.creg = 0;
      this.#urc.cereg = 0;
      this.#echo = false;
      this.#buf = '';
      this.state.radioOn = true;
      this.sbd.mo = undefined;
    }
    this.#reportRegistration();
  }

  #command(line: string): void {
    if (this.state.silent || !this.state.powered) return;
    const echo = this.#echo ? `${line}\r` : '';
    const all = this.#answer(line);
    const lines = this.#bare.has(line.toUpperCase()) ? all.slice(-1) : all;
    const stray = this.#stray.get(line.toUpperCase()) ?? '';
    this.#stray.delete(line.toUpperCase());
    const out = `${stray}${echo}${lines.map((l) => `\r\n${l}\r\n`).join('')}`;
    // An SBD session holds the line while the ISU talks to the constellation (seconds, not ms):
    // that runs on the injected clock. Ordinary answers take a module milliseconds, far inside any
    // driver timeout; on the injected clock those would round up to a whole timer tick at high time
    // scales and race the driver's own timeout, so they go out as soon as the line is read (the
    // line arrived asynchronously, so the answer is still async to the writer).
    if (/^AT\+SBDI/i.test(line)) {
      this.#clock.setTimeout(() => {
        this.#send(out);
        this.#reportRegistration();
      }, SBD_SESSION_MS);
      return;
    }
    if (this.#delayMs > 0) this.#clock.setTimeout(() => this.#send(out), this.#delayMs);
    else this.#send(out);
    this.#reportRegistration();
  }

  /** Writes an answer, cut off part-way when a truncation fault is armed. */
  #send(out: string): void {
    const cut = this.#truncateNext;
    this.#truncateNext = false;
    this.#write(cut ? out.slice(0, Math.max(1, Math.floor(out.length / 2))) : out);
  }

  /** 27.007 §10.1.22 / §7.2: with <n> ≥ 1 a registration change is reported unsolicited as `+CEREG: <stat>`. */
  #reportRegistration(): void {
    const stat = this.#stat();
    if (stat === this.#lastStat) return;
    this.#lastStat = stat;
    this.onAttachChange?.(stat === 1);
    if (this.state.silent || !this.state.powered) return;
    const sat = this.state.kind === 'satellite';
    if (!sat && this.#urc.cereg > 0) this.#write(`\r\n+CEREG: ${stat}\r\n`);
    if (this.#urc.creg > 0) this.#write(sat ? `\r\n+CREG:${stat}\r\n` : `\r\n+CREG: ${stat}\r\n`);
  }

  /** Called by the simulator when signal or registration change outside an AT command. */
  stateChanged(): void {
    this.#reportRegistration();
  }

  /** 27.007 <stat>: 1 registered (home), 2 searching, 0 not registered and not searching (radio off). */
  #stat(): number {
    return this.attached ? 1 : this.state.radioOn ? 2 : 0;
  }

  #answer(raw: string): string[] {
    const cmd = raw.toUpperCase();
    const s = this.state;
    const sat = s.kind === 'satellite';
    const stat = this.#stat();
    const urcSet = /^AT\+C(E?)REG=([0-2])$/.exec(cmd);
    if (urcSet) {
      this.#urc[urcSet[1] ? 'cereg' : 'creg'] = Number(urcSet[2]);
      return sat && urcSet[1] ? ['ERROR'] : ['OK'];
    }
    if (sat) {
      const sbd = this.#sbd(raw, cmd);
      if (sbd) return sbd;
    }
    switch (cmd) {
      case 'AT':
      case 'AT&K0': // Iridium: flow control off, for a three-wire serial connection
        return ['OK'];
      case 'ATE0':
        this.#echo = false;
        return ['OK'];
      case 'ATE1':
        this.#echo = true;
        return ['OK'];
      case 'AT+CGMI':
        return [sat ? 'Iridium' : 'Quectel', 'OK'];
      case 'AT+CGMM':
        return [sat ? 'IRIDIUM 9600 Family' : s.kind === 'nr' ? 'RM500Q-GL' : 'EC25', 'OK'];
      case 'AT+CGSN':
        return [sat ? '300234010123450' : '861234050123456', 'OK'];
      case 'AT+CSQ': {
        if (sat) return [`+CSQ:${s.radioOn ? Math.max(0, Math.min(5, Math.floor((s.rssiDbm + 120) / 2))) : 0}`, 'OK'];
        // §8.5: 0 ≤ −113 dBm, 1 = −111, 2…30 = −109…−53, 31 ≥ −51, 99 not known or not detectable.
        const n = !s.radioOn ? 99 : Math.max(0, Math.min(31, Math.round((s.rssiDbm + 113) / 2)));
        return [`+CSQ: ${n},99`, 'OK'];
      }
      case 'AT+CEREG?':
        // §10.1.22: <n>=2 adds <tac>,<ci>,<AcT> while registered.
        if (sat) return ['ERROR'];
        return [
          `+CEREG: ${this.#urc.cereg},${stat}${this.#urc.cereg === 2 && stat === 1 ? `,"${CELL.tac}","${CELL.ci}",${this.#act()}` : ''}`,
          'OK',
        ];
      case 'AT+CREG?':
        return [sat ? `+CREG:${this.#urc.creg},${stat}` : `+CREG: ${this.#urc.creg},${stat}`, 'OK'];
      case 'AT+COPS?':
        if (sat) return ['ERROR'];
        return this.attached ? [`+COPS: 0,0,"${s.operator}",${this.#act()}`, 'OK'] : ['+COPS: 0', 'OK'];
      case 'AT+QNWINFO':
        // Quectel's access-technology query (EC25/RM500Q AT manuals, AT+QNWINFO): <Act>,<oper>,<band>,<channel>.
        if (sat) return ['ERROR'];
        if (!this.attached) return ['+QNWINFO: No Service', 'OK'];
        return [
          s.kind === 'nr'
            ? `+QNWINFO: "TDD NR5G","${CELL.mccMnc}","NR5G BAND 41",504990`
            : `+QNWINFO: "FDD LTE","${CELL.mccMnc}","LTE BAND 3",1650`,
          'OK',
        ];
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
        return sat ? ['ERROR'] : [`+CFUN: ${s.radioOn ? 1 : 4}`, 'OK'];
      default:
        return ['ERROR'];
    }
  }

  /** 27.007 §7.3 <AcT>: 7 E-UTRAN, 11 NR connected to 5GCN (SA). */
  #act(): number {
    return this.state.kind === 'nr' ? 11 : 7;
  }

  /**
   * Iridium Short Burst Data (ISU AT Command Reference, 9602/9603): a 340-byte mobile-originated
   * buffer written with +SBDWT, sent by an +SBDIX session, cleared with +SBDD. The session
   * succeeds when the ISU sees the constellation (bars ≥ 1) and its radio is on.
   */
  #sbd(raw: string, cmd: string): string[] | undefined {
    const s = this.state;
    if (cmd.startsWith('AT+SBDWT=')) {
      const text = raw.slice('AT+SBDWT='.length);
      if (text.length > SBD_MO_MAX) return ['ERROR'];
      this.sbd.mo = text;
      return ['OK'];
    }
    switch (cmd) {
      case 'AT+SBDIX':
      case 'AT+SBDIXA': {
        // +SBDIX: <MO status>,<MOMSN>,<MT status>,<MTMSN>,<MT length>,<MT queued>; MO status 0 = sent,
        // 32 = no network service, 34 = radio disabled (AT*R0). MOMSN counts every attempt.
        const status = !s.radioOn ? 34 : this.attached ? 0 : 32;
        const momsn = this.sbd.momsn;
        this.sbd.momsn = (momsn + 1) & 0xffff;
        if (status === 0 && this.sbd.mo !== undefined) {
          this.sbd.sent.push(this.sbd.mo);
          this.sbd.bytesSent += this.sbd.mo.length;
        }
        return [`+SBDIX: ${status}, ${momsn}, 0, 0, 0, 0`, 'OK'];
      }
      case 'AT+SBDS':
        // +SBDS: <MO flag>,<MOMSN>,<MT flag>,<MTMSN>
        return [`+SBDS: ${this.sbd.mo === undefined ? 0 : 1}, ${this.sbd.momsn}, 0, 0`, 'OK'];
      case 'AT+SBDD0':
      case 'AT+SBDD2':
        this.sbd.mo = undefined;
        return ['0', 'OK'];
      case 'AT+SBDD1':
        return ['0', 'OK'];
      default:
        return undefined;
    }
  }
}
