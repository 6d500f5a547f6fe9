import type { EvidenceEntry } from '@shouwang/protocol';
import type HlsType from 'hls.js';
import { type Api, ApiError } from './api.ts';
import css from './evidence.css';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import { HLS_URL } from './live-player.ts';
import type { Key } from './strings.ts';
import { clock } from './time.ts';

/** `GET /api/units/:id/alarms/:alarm/evidence` as the page reads it (fleet/src/media/evidence.ts). */
interface EvidenceAnswer {
  chain: 'pending' | 'ok' | 'broken';
  parts: (EvidenceEntry & { arrived: boolean })[];
}

/** One row of `GET /api/units/:id/media?alarm=`: how much of a recording has arrived. */
interface MediaRow {
  recording: string;
  size: number;
  receivedBytes: number;
  durationMs: number | null;
}

export interface EvidenceViewDeps {
  api: Api;
  token: () => string | null;
}

/**
 * An alarm's evidence (on the ticket page and the alarm console, through evidence-list.ts): whether its chain verified, which parts have arrived
 * (and how much of those on the way), its stills as images and its clip in a player. Stored files
 * need the signed-in token, so each is fetched once into a blob; the clip (MPEG-TS, H.264/AAC) plays
 * through hls.js, which transmuxes it for Chromium's MSE, from a one-segment playlist made here.
 *
 * Its element is the page's to place and outlives the page's redraws: a poll that redraws the
 * ticket never restarts the clip.
 */
export class EvidenceView {
  readonly element: HTMLElement;
  readonly #deps: EvidenceViewDeps;
  #unit: string | null = null;
  #alarm: string | null = null;
  #drawn = '';
  #answer: { ev: EvidenceAnswer; media: MediaRow[] } | null = null;
  readonly #urls = new Map<string, string>();
  #hls: HlsType | null = null;
  #clip: { recording: string; s: number; ts: number } | null = null;
  /** Bumped on each change of alarm: loads for an earlier one are dropped. */
  #run = 0;
  /** Files are being fetched: the next beat does not fetch them again. */
  #loading = false;

  constructor(deps: EvidenceViewDeps) {
    this.#deps = deps;
    evidenceSheet();
    this.element = document.createElement('div');
    this.element.className = 'evidence-media';
    this.element.innerHTML = `<p class="evidence-chain"></p><div class="evidence-parts"></div><div class="evidence-stills"></div>
<div class="evidence-clip" data-state="none" hidden><h4></h4><video controls muted playsinline preload="auto"></video><p class="clip-state" aria-live="polite"></p></div>`;
    const video = this.#video();
    // "Press play" once the browser can play it, not when the playlist is read: a play before is lost.
    video.addEventListener('canplay', () => {
      if (this.#clipBox().dataset.state === 'loading') this.#clipState('ready');
    });
    video.addEventListener('playing', () => this.#clipState('playing'));
    video.addEventListener('pause', () => this.#clipState('ready'));
    video.addEventListener('ended', () => this.#clipState('ready'));
  }

  /** Shows the evidence of `alarm` on `unit` (null: none), and reloads it: called on each of the page's beats. */
  async show(unit: string, alarm: string | null): Promise<void> {
    if (unit !== this.#unit || alarm !== this.#alarm) {
      this.clear();
      this.#unit = unit;
      this.#alarm = alarm;
    }
    if (alarm === null) return this.#draw();
    const run = this.#run;
    const base = `/api/units/${encodeURIComponent(unit)}`;
    try {
      const [ev, media] = await Promise.all([
        this.#deps.api.get<EvidenceAnswer>(`${base}/alarms/${encodeURIComponent(alarm)}/evidence`),
        this.#deps.api.get<{ media: MediaRow[] }>(`${base}/media?alarm=${encodeURIComponent(alarm)}`),
      ]);
      if (run !== this.#run) return;
      this.#answer = { ev, media: media.media };
    } catch (err) {
      if (run !== this.#run) return;
      // No evidence at all (an alarm raised without a camera, a fleet rule): the page says "no media yet".
      if (err instanceof ApiError && err.status === 404) this.#answer = null;
      else return this.#failed((err as Error).message);
    }
    this.#draw();
    // Not awaited: the ticket is drawn while a clip of megabytes comes.
    if (!this.#loading) void this.#loadFiles(run);
  }

  /** Whether there is anything to show: the page says "no media yet" otherwise. */
  get empty(): boolean {
    return this.#answer === null;
  }

  /** When the earliest part was captured (null: nothing known yet). */
  get since(): number | null {
    const parts = this.#answer?.ev.parts ?? [];
    return parts.length ? Math.min(...parts.map((p) => p.ts)) : null;
  }

  relabel(): void {
    this.#drawn = '';
    this.#draw();
    this.#clipState((this.#clipBox().dataset.state ?? 'none') as ClipState);
    for (const f of this.element.querySelectorAll<HTMLElement>('.evidence-stills figure')) this.#caption(f);
  }

  /** Drops what was shown: the player, the fetched files. */
  clear(): void {
    this.#run++;
    this.#hls?.destroy();
    this.#hls = null;
    this.#clip = null;
    this.#answer = null;
    this.#drawn = '';
    const video = this.#video();
    video.pause();
    video.removeAttribute('src');
    for (const url of this.#urls.values()) URL.revokeObjectURL(url);
    this.#urls.clear();
    this.element.querySelector('.evidence-stills')?.replaceChildren();
    this.#clipBox().hidden = true;
    this.#clipBox().dataset.state = 'none';
  }

  /** The still's time, under it and as its text alternative. */
  #caption(figure: HTMLElement): void {
    const text = t('evidence.still', { time: clock(Number(figure.dataset.ts)) });
    (figure.querySelector('img') as HTMLImageElement).alt = text;
    (figure.querySelector('figcaption') as HTMLElement).textContent = text;
  }

  #video(): HTMLVideoElement {
    return this.element.querySelector('video') as HTMLVideoElement;
  }

  #clipBox(): HTMLElement {
    return this.element.querySelector('.evidence-clip') as HTMLElement;
  }

  #failed(message: string): void {
    (this.element.querySelector('.evidence-chain') as HTMLElement).textContent = t('evidence.loadFailed', { message });
  }

  #draw(): void {
    const a = this.#answer;
    this.element.hidden = a === null;
    const key = a ? JSON.stringify(a) : '';
    if (!a || key === this.#drawn) return;
    this.#drawn = key;
    const chain = this.element.querySelector('.evidence-chain') as HTMLElement;
    chain.dataset.chain = a.ev.chain;
    chain.textContent = t(`evidence.chain.${a.ev.chain}`);
    const rows = new Map(a.media.map((m) => [m.recording, m]));
    (this.element.querySelector('.evidence-parts') as HTMLElement).innerHTML = `<h4>${esc(t('evidence.parts'))}</h4><ul>${a.ev.parts
      .map((p) => {
        const state = partState(p, rows.get(p.recording ?? ''));
        return `<li data-part="${esc(p.part)}" data-arrived="${p.arrived}"${p.recording ? ` data-recording="${esc(p.recording)}"` : ''}><b>${esc(
          t(`evidence.part.${p.part}` as Key),
        )}</b> <time>${esc(clock(p.ts))}</time> · <span class="part-state">${esc(state)}</span></li>`;
      })
      .join('')}</ul>`;
  }

  /** Fetches the stills and the clip that have arrived and are not shown yet. */
  async #loadFiles(run: number): Promise<void> {
    const a = this.#answer;
    if (!a) return;
    this.#loading = true;
    try {
      await this.#fetchParts(a, run);
    } finally {
      this.#loading = false;
    }
  }

  async #fetchParts(a: { ev: EvidenceAnswer; media: MediaRow[] }, run: number): Promise<void> {
    for (const p of a.ev.parts) {
      if (!p.arrived || !p.recording || this.#urls.has(p.recording)) continue;
      if (p.part === 'snapshot') {
        const url = await this.#blob(p.recording, run);
        if (!url) continue;
        const figure = document.createElement('figure');
        figure.dataset.recording = p.recording;
        figure.dataset.ts = String(p.ts);
        figure.innerHTML = `<img src="${esc(url)}" alt=""><figcaption></figcaption>`;
        this.element.querySelector('.evidence-stills')?.append(figure);
        this.#caption(figure);
      } else if (p.part === 'clip' && !this.#clip) {
        const row = a.media.find((m) => m.recording === p.recording);
        this.#clip = { recording: p.recording, s: Math.round((row?.durationMs ?? 0) / 1000), ts: p.ts };
        this.#clipBox().hidden = false;
        this.#clipState('loading');
        const url = await this.#blob(p.recording, run);
        if (!url) {
          this.#clip = null;
          continue;
        }
        await this.#play(url, run);
      }
    }
  }

  async #blob(recording: string, run: number): Promise<string | null> {
    const tk = this.#deps.token();
    const res = await fetch(`/api/units/${encodeURIComponent(this.#unit ?? '')}/media/${encodeURIComponent(recording)}`, {
      headers: tk ? { authorization: `Bearer ${tk}` } : {},
    }).catch(() => null);
    if (!res?.ok || run !== this.#run) return null;
    const url = URL.createObjectURL(await res.blob());
    if (run !== this.#run) {
      URL.revokeObjectURL(url);
      return null;
    }
    this.#urls.set(recording, url);
    return url;
  }

  /** One stored MPEG-TS file as a VOD playlist of one segment (RFC 8216), played by hls.js. */
  async #play(segmentUrl: string, run: number): Promise<void> {
    const clip = this.#clip;
    if (!clip) return;
    const s = Math.max(1, clip.s);
    const playlist = URL.createObjectURL(
      new Blob(
        [
          `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:${s}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:${s}.0,\n${segmentUrl}\n#EXT-X-ENDLIST\n`,
        ],
        { type: 'application/vnd.apple.mpegurl' },
      ),
    );
    this.#urls.set(`${clip.recording}.m3u8`, playlist);
    const { default: Hls } = (await import(HLS_URL)) as typeof import('hls.js');
    if (run !== this.#run) return;
    const hls = new Hls();
    this.#hls = hls;
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) this.#clipState('failed', data.details);
    });
    hls.loadSource(playlist);
    hls.attachMedia(this.#video());
  }

  #clipState(state: ClipState, detail = ''): void {
    const box = this.#clipBox();
    box.dataset.state = state;
    (box.querySelector('h4') as HTMLElement).textContent = t('evidence.clip');
    const c = this.#clip;
    const facts = { s: c?.s ?? 0, time: c ? clock(c.ts) : '' };
    (box.querySelector('.clip-state') as HTMLElement).textContent =
      state === 'loading'
        ? t('evidence.clip.loading')
        : state === 'ready'
          ? t('evidence.clip.ready', facts)
          : state === 'playing'
            ? t('evidence.clip.playing', facts)
            : state === 'failed'
              ? t('evidence.clip.failed', { detail })
              : t('evidence.clip.none');
  }
}

/** The evidence's style sheet, once for every view and list on the page. */
export function evidenceSheet(): void {
  if (document.getElementById('evidence-css')) return;
  const style = document.createElement('style');
  style.id = 'evidence-css';
  style.textContent = css;
  document.head.append(style);
}

type ClipState = 'none' | 'loading' | 'ready' | 'playing' | 'failed';

function partState(p: EvidenceAnswer['parts'][number], row: MediaRow | undefined): string {
  // A clip the unit's restart cut short: said, so nobody waits for a post-roll that never was.
  if (p.cut && !p.recording) return t('evidence.cut.empty');
  const cut = p.cut ? ` · ${t('evidence.cut.short')}` : '';
  if (!p.recording) return t('evidence.inline');
  if (p.arrived) return `${t('evidence.arrived')}${cut}`;
  const size = kb(p.bytes ?? row?.size ?? 0);
  return `${row && row.receivedBytes > 0 ? t('evidence.receiving', { got: kb(row.receivedBytes), size }) : t('evidence.waiting', { size })}${cut}`;
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}
