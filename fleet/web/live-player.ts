import type { MediaReason } from '@shouwang/protocol';
import type HlsType from 'hls.js';
import { KEEPALIVE_S, type WatchAnswer } from '../src/domain/live-feed.ts';
import { allowed, explain } from './actions.ts';
import type { Api } from './api.ts';
import { t } from './i18n.ts';
import css from './live.css';
import type { Session } from './model.ts';
import { TalkDownPanel } from './talk-down.ts';

/**
 * The unit's live camera: "Watch live" asks the fleet for the unit's feed and plays its HLS
 * playlist with hls.js; a keep-alive every `KEEPALIVE_S` keeps the feed running while the player
 * is open, and closing the unit (or Stop) tells the fleet this viewer left. A refusal (satellite,
 * critical power, no data left) is said in words with the unit's latest snapshot instead.
 *
 * The player lives in its own element beside the unit page, never inside it: the unit page
 * re-renders on open and on a language change, and cards patch on every reading, none of which may
 * restart a running video.
 */
export interface LivePlayerDeps {
  api: Api;
  token: () => string | null;
  session: () => Session;
}

const KEEPALIVE_MS = KEEPALIVE_S * 1000;
const FIRST_SEGMENT_POLL_MS = 500;
/** hls.js is large (~370 kB) and only a watching commander needs it: loaded on the first Watch. */
export const HLS_URL = '/assets/hls.mjs';

type State = 'idle' | 'asking' | 'waiting' | 'playing' | 'refused' | 'failed' | 'stopped';

export class LivePlayer {
  readonly #root: HTMLElement;
  readonly #deps: LivePlayerDeps;
  readonly #talk: TalkDownPanel;
  readonly #viewer = crypto.randomUUID().replaceAll('-', '');
  #unit: string | null = null;
  #feed: string | null = null;
  #hls: HlsType | null = null;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #snapshotUrl: string | null = null;
  /** Bumped on each start and stop: answers to an earlier one are ignored. */
  #run = 0;

  constructor(root: HTMLElement, deps: LivePlayerDeps) {
    this.#root = root;
    this.#deps = deps;
    this.#talk = new TalkDownPanel(deps);
    const style = document.createElement('style');
    style.textContent = css;
    document.head.append(style);
    root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-live]');
      if (b?.dataset.live === 'watch') void this.#watch();
      if (b?.dataset.live === 'stop') this.#stop('stopped');
    });
  }

  /** The unit page opened on `unitId`, or closed (null). The same unit again changes nothing. */
  show(unitId: string | null): void {
    if (unitId === this.#unit) return;
    if (this.#unit) this.#stop('idle');
    this.#talk.unmount();
    this.#unit = unitId;
    this.#root.hidden = unitId === null;
    if (unitId) this.#render();
  }

  relabel(): void {
    // Labels only: the video keeps playing through a change of language.
    const title = this.#root.querySelector('h3');
    if (title) title.textContent = t('live.title');
    for (const b of this.#root.querySelectorAll<HTMLButtonElement>('button[data-live]'))
      b.textContent = t(b.dataset.live === 'stop' ? 'live.stop' : 'live.watch');
    this.#talk.relabel();
    const snap = this.#root.querySelector('img');
    if (snap) snap.alt = t('live.snapshot');
  }

  #render(): void {
    const ok = allowed(this.#deps.session(), 'command');
    // In the unit page's frame (its section styles), not inside the page itself.
    this.#root.innerHTML = `<div class="unit-page"><section class="live-player" data-state="idle">
  <h3>${t('live.title')}</h3>
  <div class="live-box"><video muted playsinline hidden></video><img hidden alt="${t('live.snapshot')}"></div>
  <p class="live-state" aria-live="polite"></p>
  <div class="buttons"><button type="button" data-live="watch" class="primary"${ok ? '' : ' disabled'}>${t('live.watch')}</button><button type="button" data-live="stop" hidden>${t('live.stop')}</button></div>
</section>
<section class="talk-down"></section></div>`;
    const unit = this.#unit;
    if (unit) this.#talk.mount(this.#root.querySelector('.talk-down') as HTMLElement, unit);
  }

  #set(state: State, text: string): void {
    const section = this.#root.querySelector<HTMLElement>('.live-player');
    if (!section) return;
    section.dataset.state = state;
    (section.querySelector('.live-state') as HTMLElement).textContent = text;
    const running = state === 'asking' || state === 'waiting' || state === 'playing';
    (section.querySelector('[data-live="watch"]') as HTMLElement).hidden = running;
    (section.querySelector('[data-live="stop"]') as HTMLElement).hidden = !running;
    (section.querySelector('video') as HTMLElement).hidden = state !== 'playing' && state !== 'waiting';
    (section.querySelector('img') as HTMLElement).hidden = state !== 'refused' || this.#snapshotUrl === null;
  }

  async #watch(): Promise<void> {
    const unit = this.#unit;
    if (!unit) return;
    const run = ++this.#run;
    this.#set('asking', t('live.asking'));
    const answer = await this.#ask(unit);
    if (run !== this.#run || !answer) return;
    if (answer.state === 'refused') return this.#refused(unit, answer.reason, answer.detail, answer.snapshot);
    this.#feed = answer.feed;
    this.#set('waiting', t('live.waiting', { kbps: answer.bitrateKbps }));
    this.#keepAlive = setInterval(() => void this.#renew(unit, run), KEEPALIVE_MS);
    const playlist = `/api/units/${encodeURIComponent(unit)}/live/${encodeURIComponent(answer.feed)}/index.m3u8`;
    // hls.js gives up on a live playlist that has no segment yet: start it once the first has arrived.
    while (run === this.#run && !(await this.#exists(playlist))) await new Promise((r) => setTimeout(r, FIRST_SEGMENT_POLL_MS));
    if (run !== this.#run) return;
    await this.#play(playlist, answer.bitrateKbps, run);
  }

  async #ask(unit: string): Promise<WatchAnswer | undefined> {
    try {
      return await this.#deps.api.post<WatchAnswer>(`/api/units/${encodeURIComponent(unit)}/live`, { viewer: this.#viewer });
    } catch (err) {
      this.#stop('failed', explain(err, 'command', this.#deps.session()));
      return undefined;
    }
  }

  async #renew(unit: string, run: number): Promise<void> {
    const answer = await this.#ask(unit);
    if (run !== this.#run || !answer) return;
    // The ladder stepped down (the link went to satellite, power went critical): the feed is over.
    if (answer.state === 'refused') return this.#refused(unit, answer.reason, answer.detail, answer.snapshot);
    if (answer.feed !== this.#feed) {
      // The unit restarted and began a new feed: follow it.
      this.#stop('idle');
      void this.#watch();
    }
  }

  async #exists(url: string): Promise<boolean> {
    const tk = this.#deps.token();
    const res = await fetch(url, { headers: tk ? { authorization: `Bearer ${tk}` } : {} }).catch(() => null);
    return res?.ok === true;
  }

  async #play(playlist: string, kbps: number, run: number): Promise<void> {
    const video = this.#root.querySelector('video') as HTMLVideoElement;
    const { default: Hls } = (await import(HLS_URL)) as typeof import('hls.js');
    if (run !== this.#run) return;
    const hls = new Hls({
      lowLatencyMode: true,
      // Two segments behind the newest: ~2 s at the unit's 1 s live segments.
      liveSyncDurationCount: 2,
      liveMaxLatencyDurationCount: 5,
      maxLiveSyncPlaybackRate: 1.5,
      xhrSetup: (xhr) => {
        const tk = this.#deps.token();
        if (tk) xhr.setRequestHeader('authorization', `Bearer ${tk}`);
      },
    });
    this.#hls = hls;
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) this.#stop('failed', t('live.failed', { detail: data.details }));
    });
    let shown = 0;
    video.addEventListener('timeupdate', () => {
      if (run !== this.#run) return;
      // From the capture time each segment carries (EXT-X-PROGRAM-DATE-TIME), not the playlist's edge.
      const behind = hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : Number.NaN;
      // Said at most once a second: the player's own clock ticks four times as often.
      if (Date.now() - shown < 1000) return;
      shown = Date.now();
      this.#set(
        'playing',
        Number.isFinite(behind) && behind > 0 ? t('live.behind', { kbps, s: behind.toFixed(1) }) : t('live.playing', { kbps }),
      );
    });
    hls.loadSource(playlist);
    hls.attachMedia(video);
    await video.play().catch(() => undefined);
  }

  async #refused(unit: string, reason: MediaReason, detail: string, snapshot: string | undefined): Promise<void> {
    const run = this.#run;
    this.#teardown();
    const refused = t('live.refused', { reason: t(`reason.${reason}`), detail });
    this.#set('refused', snapshot ? refused : `${refused} ${t('live.noSnapshot')}`);
    if (!snapshot) return;
    const tk = this.#deps.token();
    const res = await fetch(`/api/units/${encodeURIComponent(unit)}/media/${encodeURIComponent(snapshot)}`, {
      headers: tk ? { authorization: `Bearer ${tk}` } : {},
    }).catch(() => null);
    if (run !== this.#run) return;
    if (!res?.ok) {
      this.#set('refused', `${refused} ${t('live.noSnapshot')}`);
      return;
    }
    this.#snapshotUrl = URL.createObjectURL(await res.blob());
    (this.#root.querySelector('img') as HTMLImageElement).src = this.#snapshotUrl;
    this.#set('refused', refused);
  }

  /** Ends what this player runs and tells the fleet this viewer left. */
  #stop(state: State, text = t('live.stopped')): void {
    const unit = this.#unit;
    this.#run++;
    const wasWatching = this.#feed !== null || this.#keepAlive !== undefined;
    this.#teardown();
    if (unit && wasWatching)
      this.#deps.api.post(`/api/units/${encodeURIComponent(unit)}/live/leave`, { viewer: this.#viewer }).catch(() => undefined);
    this.#set(state, state === 'idle' ? '' : text);
  }

  #teardown(): void {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.#feed = null;
    this.#hls?.destroy();
    this.#hls = null;
    const video = this.#root.querySelector('video');
    video?.removeAttribute('src');
    if (this.#snapshotUrl) URL.revokeObjectURL(this.#snapshotUrl);
    this.#snapshotUrl = null;
  }
}
