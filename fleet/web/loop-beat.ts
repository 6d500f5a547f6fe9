import { t } from './i18n.ts';
import { clock } from './time.ts';

/**
 * A view's beat: ask the fleet, then again `ms` after the answer, while the view is open. The
 * status line says when the fleet last answered (by the fleet's clock) or that it did not. An
 * action's own ask (to show its effect at once) resets the beat, so one ask stays scheduled.
 */
export class Beat {
  readonly #ms: number;
  readonly #ask: () => Promise<number | null>;
  readonly #status: HTMLElement | null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #on = false;

  /** `ask` answers the fleet's time of its answer, or null when the answer is no longer wanted. */
  constructor(ms: number, ask: () => Promise<number | null>, status: HTMLElement | null) {
    this.#ms = ms;
    this.#ask = ask;
    this.#status = status;
  }

  start(): void {
    this.#on = true;
    void this.run();
  }

  stop(): void {
    this.#on = false;
    clearTimeout(this.#timer);
  }

  async run(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      const at = await this.#ask();
      if (at !== null && this.#status) {
        this.#status.textContent = t('loop.updated', { time: clock(at) });
        this.#status.classList.remove('refused');
      }
    } catch (err) {
      if (this.#status) {
        this.#status.textContent = t('loop.loadFailed', { message: (err as Error).message });
        this.#status.classList.add('refused');
      }
    }
    clearTimeout(this.#timer);
    if (this.#on) this.#timer = setTimeout(() => void this.run(), this.#ms);
  }
}
