import { t } from './i18n.ts';
import { clock } from './time.ts';

/** How often an open view asks in full while the stream pushes its changes (what the push cannot carry: another fleet instance's commits). */
export const RECONCILE_MS = 30_000;

/**
 * A view's beat: ask the fleet, then again `ms` after the answer, while the view is open. The
 * status line says when the fleet last answered or pushed (by the fleet's clock) or that it did
 * not. An action's own ask (to show its effect at once) resets the beat, so one ask stays
 * scheduled, and supersedes an ask already on its way: that one's answer, older than the action,
 * is not drawn.
 */
export class Beat {
  readonly #ms: number;
  readonly #ask: (superseded: () => boolean) => Promise<number | null>;
  readonly #status: HTMLElement | null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #on = false;
  #seq = 0;

  /**
   * `ask` answers the fleet's time of its answer, or null when the answer is no longer wanted; it
   * draws nothing once `superseded()` says a later ask has started.
   */
  constructor(ms: number, ask: (superseded: () => boolean) => Promise<number | null>, status: HTMLElement | null) {
    this.#ms = ms;
    this.#ask = ask;
    this.#status = status;
  }

  /** A push from the fleet at its time `at`: the status line says so (the beat stays as scheduled). */
  heard(at: number): void {
    if (!this.#status) return;
    this.#status.textContent = t('loop.updated', { time: clock(at) });
    this.#status.classList.remove('refused');
  }

  /** Whether the view is open (a push to a closed view is dropped: opening asks in full). */
  get on(): boolean {
    return this.#on;
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
    const seq = ++this.#seq;
    const superseded = () => seq !== this.#seq;
    try {
      const at = await this.#ask(superseded);
      if (superseded()) return;
      if (at !== null) this.heard(at);
    } catch (err) {
      if (superseded()) return;
      if (this.#status) {
        this.#status.textContent = t('loop.loadFailed', { message: (err as Error).message });
        this.#status.classList.add('refused');
      }
    }
    clearTimeout(this.#timer);
    if (this.#on) this.#timer = setTimeout(() => void this.run(), this.#ms);
  }
}
