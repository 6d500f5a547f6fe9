import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Speaker } from '@shouwang/hardware';
import type { CommandArgs, CommandData, LinkType, PowerState } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { RUNG_LIMITS } from '../domain/power.ts';

/**
 * Talk-down: command's voice on the unit's loudspeaker, a stock message the unit carries
 * (`<stockDir>/<name>.ogg` or `.wav`) or a short one recorded in the browser and sent in the request.
 * Refused, with the reason, when the unit has no working speaker, when a rung with the camera off
 * (critical power) cannot spare the amplifier, when a recorded message came over satellite (that link
 * cannot carry audio; a stock one can be asked for in a few bytes), or while another message plays.
 * The answer goes as soon as playing starts; a message the speaker then fails on is logged.
 */
type Refused = Extract<CommandData<'talk-down'>, { state: 'refused' }>;

export class TalkDown {
  private readonly speaker: Speaker | undefined;
  private readonly dir: string;
  private readonly stockDir: string;
  private readonly log: Logger;
  private playing: Promise<void> | undefined;

  constructor(o: { speaker: Speaker | undefined; dir: string; stockDir: string; log: Logger }) {
    this.speaker = o.speaker;
    this.dir = o.dir;
    this.stockDir = o.stockDir;
    this.log = o.log;
  }

  /** Resolves when the current message has finished (for tests and a clean shutdown). */
  idle(): Promise<void> {
    return this.playing ?? Promise.resolve();
  }

  request(args: CommandArgs<'talk-down'>, at: { powerState: PowerState; link: LinkType }): CommandData<'talk-down'> {
    const speaker = this.speaker;
    if (!speaker) return refused('speaker-fault', 'this unit has no loudspeaker');
    if (RUNG_LIMITS[at.powerState].camera === 'off') return refused('critical-power', `power rung ${at.powerState}: speaker off`);
    if ('audio' in args && at.link === 'satellite')
      return refused('satellite', 'satellite link: recorded audio cannot be carried; ask for a stock message');
    if (this.playing) return refused('busy', 'another message is playing');
    let file: string;
    let sha256: string | undefined;
    let durationMs = 0;
    if ('stock' in args) {
      const found = ['ogg', 'wav'].map((ext) => join(this.stockDir, `${args.stock}.${ext}`)).find((f) => existsSync(f));
      if (!found) return refused('speaker-fault', `stock message ${args.stock} is not installed in ${this.stockDir}`);
      file = found;
    } else {
      sha256 = createHash('sha256').update(args.audio).digest('hex');
      mkdirSync(this.dir, { recursive: true });
      file = join(this.dir, `${sha256.slice(0, 16)}.${args.type === 'audio/ogg' ? 'ogg' : 'wav'}`);
      writeFileSync(file, args.audio);
      durationMs = args.durationMs;
    }
    this.playing = speaker.play(file).then(
      () => this.log.info({ file, durationMs }, 'talk-down played'),
      (err: unknown) => this.log.error({ err, file }, 'talk-down could not be played'),
    );
    void this.playing.finally(() => {
      this.playing = undefined;
    });
    return { state: 'playing', durationMs, ...(sha256 ? { sha256 } : {}) };
  }
}

function refused(reason: Refused['reason'], detail: string): Refused {
  return { state: 'refused', reason, detail };
}
