import { type CommandData, STOCK_MESSAGES, type StockMessage } from '@shouwang/protocol';
import { allowed, explain } from './actions.ts';
import { type Api, ApiError } from './api.ts';
import { t } from './i18n.ts';
import type { Session } from './model.ts';

/**
 * Talk-down from the unit page: play one of the unit's stock messages, or record a short one with
 * the browser's microphone (MediaRecorder) and send it; the page says whether the unit plays it or
 * why not (satellite, power, busy, no speaker). Lives beside the live player, outside the
 * re-rendered unit page, so a recording in progress survives the page's updates.
 */
export interface TalkDownDeps {
  api: Api;
  token: () => string | null;
  session: () => Session;
}

/** A unit takes at most 48 KiB of audio: ~10 s of Opus at the recorder's ~32 kbit/s. */
const MAX_RECORD_MS = 10_000;

export class TalkDownPanel {
  readonly #deps: TalkDownDeps;
  #root: HTMLElement | null = null;
  #unit: string | null = null;
  #recording: { recorder: MediaRecorder; discard: boolean } | null = null;
  #autoStop: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: TalkDownDeps) {
    this.#deps = deps;
  }

  mount(root: HTMLElement, unitId: string): void {
    this.#cancel();
    this.#root = root;
    this.#unit = unitId;
    const ok = allowed(this.#deps.session(), 'command');
    const off = ok ? '' : ' disabled';
    root.innerHTML = `<h3>${t('talk.title')}</h3>
  <div class="buttons"><select name="stock" aria-label="${t('talk.stock')}">${STOCK_MESSAGES.map((m) => `<option value="${m}">${t(`stock.${m}`)}</option>`).join('')}</select>
  <button type="button" data-talk="stock"${off}>${t('talk.playStock')}</button>
  <button type="button" data-talk="record"${off}>${t('talk.record')}</button></div>
  <p class="talk-state" aria-live="polite"></p>`;
    root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-talk]');
      if (b?.dataset.talk === 'stock') void this.#stock();
      if (b?.dataset.talk === 'record') void this.#toggleRecord(b);
    });
  }

  /** Labels only: a recording in progress goes on. */
  relabel(): void {
    const root = this.#root;
    if (!root) return;
    const title = root.querySelector('h3');
    if (title) title.textContent = t('talk.title');
    for (const o of root.querySelectorAll<HTMLOptionElement>('option')) o.textContent = t(`stock.${o.value as StockMessage}`);
    const stock = root.querySelector('[data-talk="stock"]');
    if (stock) stock.textContent = t('talk.playStock');
    const record = root.querySelector('[data-talk="record"]');
    if (record) record.textContent = t(this.#recording ? 'talk.stopSend' : 'talk.record');
  }

  unmount(): void {
    this.#cancel();
    this.#root = null;
    this.#unit = null;
  }

  #say(text: string, state: 'sending' | 'playing' | 'refused' | 'failed' | 'recording'): void {
    const p = this.#root?.querySelector<HTMLElement>('.talk-state');
    if (!p) return;
    p.textContent = text;
    p.dataset.state = state;
  }

  async #stock(): Promise<void> {
    const unit = this.#unit;
    const stock = this.#root?.querySelector<HTMLSelectElement>('select[name="stock"]')?.value as StockMessage | undefined;
    if (!unit || !stock) return;
    this.#say(t('talk.sending'), 'sending');
    try {
      this.#answer(await this.#deps.api.post<CommandData<'talk-down'>>(`/api/units/${encodeURIComponent(unit)}/talk-down`, { stock }));
    } catch (err) {
      this.#say(explain(err, 'command', this.#deps.session()), 'failed');
    }
  }

  async #toggleRecord(button: HTMLButtonElement): Promise<void> {
    if (this.#recording) {
      this.#recording.recorder.stop();
      return;
    }
    const unit = this.#unit;
    if (!unit) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      this.#say(t('talk.noMic', { detail: (err as Error).message }), 'failed');
      return;
    }
    const recorder = new MediaRecorder(stream, { mimeType: 'audio/webm;codecs=opus', audioBitsPerSecond: 32_000 });
    const rec = { recorder, discard: false };
    const parts: Blob[] = [];
    const started = performance.now();
    recorder.addEventListener('dataavailable', (e) => parts.push(e.data));
    recorder.addEventListener('stop', () => {
      clearTimeout(this.#autoStop);
      for (const tr of stream.getTracks()) tr.stop();
      if (this.#recording === rec) this.#recording = null;
      button.textContent = t('talk.record');
      if (!rec.discard && parts.length > 0)
        void this.#send(unit, new Blob(parts, { type: 'audio/webm' }), Math.round(performance.now() - started));
    });
    this.#recording = rec;
    recorder.start();
    button.textContent = t('talk.stopSend');
    this.#say(t('talk.recording', { s: MAX_RECORD_MS / 1000 }), 'recording');
    this.#autoStop = setTimeout(() => recorder.stop(), MAX_RECORD_MS);
  }

  async #send(unit: string, audio: Blob, durationMs: number): Promise<void> {
    this.#say(t('talk.sending'), 'sending');
    const tk = this.#deps.token();
    try {
      const res = await fetch(`/api/units/${encodeURIComponent(unit)}/talk-down?durationMs=${durationMs}`, {
        method: 'POST',
        headers: { 'content-type': 'audio/webm', ...(tk ? { authorization: `Bearer ${tk}` } : {}) },
        body: audio,
      });
      const json = (await res.json().catch(() => null)) as
        | (CommandData<'talk-down'> & { error?: { code: string; message: string } })
        | null;
      if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? 'HTTP', json?.error?.message ?? res.statusText);
      if (json) this.#answer(json);
    } catch (err) {
      this.#say(explain(err, 'command', this.#deps.session()), 'failed');
    }
  }

  #answer(a: CommandData<'talk-down'>): void {
    if (a.state === 'playing')
      this.#say(a.durationMs > 0 ? t('talk.playing', { s: (a.durationMs / 1000).toFixed(1) }) : t('talk.playingStock'), 'playing');
    else this.#say(t('talk.refused', { reason: t(`reason.${a.reason}`), detail: a.detail }), 'refused');
  }

  #cancel(): void {
    clearTimeout(this.#autoStop);
    const rec = this.#recording;
    this.#recording = null;
    // Leaving the unit discards a recording in progress rather than sending it unseen.
    if (rec) {
      rec.discard = true;
      rec.recorder.stop();
    }
  }
}
