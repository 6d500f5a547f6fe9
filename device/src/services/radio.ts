import type { Clock } from '@shouwang/hardware';
import type { Logger } from 'pino';
import type { Uplink } from './uplink.ts';

/**
 * The modem's duty cycle, one change at a time. The fleet must not read a planned sleep as a
 * fault, so a close goes in order: the unit's last word (its charge and rung, queued by the agent)
 * is sent and its PUBACK awaited, within `lastWordWaitMs`; then the uplink says `offline` with the
 * next-contact promise and disconnects; only then is the modem powered down. Cutting the modem
 * first kills the link under the goodbye and leaves the broker to publish the last will, whose
 * promise dates from the connect.
 */
export interface RadioDeps {
  clock: Clock;
  log: Logger;
  uplink: Pick<Uplink, 'connected' | 'kick' | 'delivered' | 'setAllowed'>;
  /** The modem, told to come up or power down (AT+CFUN). */
  link: { setPower?(up: boolean): Promise<void> };
  /** Whether the rung wants the radio up now. */
  wanted: () => boolean;
  /** Queue what the fleet needs before the radio goes quiet (calls `expect` with the row's seq). */
  lastWord: () => void;
  /** For the log: the promise the goodbye will carry. */
  nextContactBy: () => number;
  lastWordWaitMs: number;
}

export class Radio {
  private readonly d: RadioDeps;
  private on = true;
  private change: Promise<void> | undefined;
  private endWait: (() => void) | undefined;
  /** Seq of the newest last word not yet known to be acknowledged. */
  private unsaid: number | undefined;
  private stopped = false;

  constructor(deps: RadioDeps) {
    this.d = deps;
  }

  /**
   * A last word was queued: a closing radio waits for this row until the gateway has it. Cleared on
   * its PUBACK whether or not a close is waiting, so a later close never waits on a row already
   * delivered (the uplink answers `delivered` only on a PUBACK still to come).
   */
  expect(seq: number): void {
    this.unsaid = seq;
    void this.d.uplink.delivered(seq).then(() => {
      if (this.unsaid === seq) this.unsaid = undefined;
    });
  }

  /** Brings the modem to what the rung wants now, if no change is under way. */
  update(): void {
    if (this.stopped || this.change) return;
    const want = this.d.wanted();
    if (want === this.on) return;
    this.on = want;
    this.change = (want ? this.open() : this.close())
      .catch((err: unknown) => this.d.log.warn({ err }, 'modem power change failed'))
      .finally(() => {
        this.change = undefined;
        // The duty may have changed while the last word was going out (an alarm came, a window opened).
        this.update();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endWait?.();
    await this.change;
  }

  private async open(): Promise<void> {
    this.d.log.info('modem up');
    await this.d.link.setPower?.(true);
    await this.d.uplink.setAllowed(true);
  }

  private async close(): Promise<void> {
    this.d.lastWord();
    const seq = this.unsaid;
    if (seq !== undefined && this.d.uplink.connected) {
      this.d.uplink.kick();
      await this.deliveredWithin(seq);
    }
    if (this.stopped) return;
    this.d.log.info({ nextContactBy: this.d.nextContactBy() }, 'modem down to save power');
    await this.d.uplink.setAllowed(false);
    await this.d.link.setPower?.(false);
  }

  /** Resolves when the row is acknowledged or after `lastWordWaitMs` of unit time, whichever comes first. */
  private deliveredWithin(seq: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.d.clock.clearTimeout(timer);
        this.endWait = undefined;
        resolve();
      };
      const timer = this.d.clock.setTimeout(done, this.d.lastWordWaitMs);
      this.endWait = done;
      void this.d.uplink.delivered(seq).then(done);
    });
  }
}
