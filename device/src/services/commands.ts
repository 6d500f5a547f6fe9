import {
  type CommandArgs,
  type CommandData,
  type CommandName,
  type CommandResponse,
  type CommissionItem,
  decodeRequest,
  ErrorCode,
  encodeResponse,
  type MediaAck,
  type OtaStep,
  type ProtocolError,
  type UpdateJob,
} from '@shouwang/protocol';
import type { Logger } from 'pino';
import { Counters } from '../drivers/counters.ts';
import type { ConfigStore } from './config-store.ts';

/**
 * Request → response for `req/<command>` (conventions §2): every answer carries the request's
 * correlation id and either `data` or an error with a stable code. A request that cannot be
 * decoded at all has no id to answer to: it is counted and dropped.
 */
export interface CommandDeps {
  config: ConfigStore;
  log: Logger;
  now: () => number;
  uptimeS: () => number;
  /** Ask the composition root to restart the agent (in place) or reboot the board, after answering. */
  restart: (why: 'restart' | 'reboot') => void;
  /** Runs the commissioning checklist (takes seconds: a still, a test upload). */
  commission: () => Promise<CommissionItem[]>;
  /** Update jobs (services/ota-service.ts); absent when the agent does not run from A/B slots. */
  ota?: () => { accept(job: UpdateJob): { step: OtaStep; target: string }; cancel(campaign: string): OtaStep | undefined } | undefined;
  /** The fleet says what it holds of a recording (the bulk lane sends only the rest). */
  mediaAck?: (ack: MediaAck) => Promise<'sending' | 'done' | 'unknown'>;
  /** Live feeds and talk-down (services/recorder-control.ts); absent on a unit without a camera. */
  video?: {
    liveStart(args: CommandArgs<'live-start'>): CommandData<'live-start'>;
    liveStop(args: CommandArgs<'live-stop'>): CommandData<'live-stop'>;
    playTalkDown(args: CommandArgs<'talk-down'>): CommandData<'talk-down'>;
  };
}

export type CommandDropReason = 'undecodable';

export class CommandHandler {
  readonly dropped = new Counters<CommandDropReason>();
  private readonly d: CommandDeps;

  constructor(deps: CommandDeps) {
    this.d = deps;
  }

  /**
   * Returns the encoded response (a promise for commands that take time), or undefined when there
   * is no one to answer. `after` runs once the answer is out.
   */
  handle(command: CommandName, bytes: Uint8Array): { response: Uint8Array | Promise<Uint8Array>; after?: () => void } | undefined {
    const req = decodeRequest(command, bytes);
    if (!req.ok) {
      const id = idOf(bytes);
      if (id === undefined) {
        this.dropped.inc('undecodable');
        this.d.log.warn({ command, error: req.error }, 'undecodable request dropped');
        return undefined;
      }
      return { response: this.error(command, id, req.error) };
    }
    const { id, expires } = req.value;
    const now = this.d.now();
    if (expires !== undefined && now > expires) {
      return { response: this.error(command, id, { code: ErrorCode.Expired, message: `expired at ${new Date(expires).toISOString()}` }) };
    }
    this.d.log.info({ command, id }, 'command');
    switch (command) {
      case 'ping':
        return { response: encodeResponse('ping', { id, status: 'ok', data: { uptimeS: Math.round(this.d.uptimeS()), ts: now } }) };
      case 'config-get': {
        const args = req.value.args as { keys?: string[] };
        const r = this.d.config.get(args.keys);
        return {
          response: r.ok
            ? encodeResponse('config-get', { id, status: 'ok', data: { config: r.config } })
            : this.error(command, id, r.error),
        };
      }
      case 'config-set': {
        const args = req.value.args as { config: Record<string, string | number | boolean> };
        const r = this.d.config.set(args.config);
        if (!r.ok) return { response: this.error(command, id, r.error) };
        this.d.log.info({ keys: r.applied, restartRequired: r.restartRequired }, 'configuration changed');
        return {
          response: encodeResponse('config-set', { id, status: 'ok', data: { applied: r.applied, restartRequired: r.restartRequired } }),
        };
      }
      case 'commission':
        return {
          response: this.d.commission().then(
            (items) => encodeResponse('commission', { id, status: 'ok', data: { ts: this.d.now(), items } }),
            (err: unknown) =>
              this.error(command, id, { code: ErrorCode.Failed, message: `commissioning failed: ${(err as Error).message}` }),
          ),
        };
      case 'ota':
      case 'ota-cancel':
        return { response: this.ota(command, id, req.value.args) };
      case 'media-ack': {
        const ack = this.d.mediaAck;
        if (!ack) break;
        return {
          response: ack(req.value.args as MediaAck).then(
            (state) => encodeResponse('media-ack', { id, status: 'ok', data: { state } }),
            (err: unknown) => this.error(command, id, { code: ErrorCode.Failed, message: `media-ack failed: ${(err as Error).message}` }),
          ),
        };
      }
      case 'live-start':
        if (!this.d.video) break;
        return {
          response: encodeResponse(command, {
            id,
            status: 'ok',
            data: this.d.video.liveStart(req.value.args as CommandArgs<'live-start'>),
          }),
        };
      case 'live-stop':
        if (!this.d.video) break;
        return {
          response: encodeResponse(command, { id, status: 'ok', data: this.d.video.liveStop(req.value.args as CommandArgs<'live-stop'>) }),
        };
      case 'talk-down':
        if (!this.d.video) break;
        return {
          response: encodeResponse(command, {
            id,
            status: 'ok',
            data: this.d.video.playTalkDown(req.value.args as CommandArgs<'talk-down'>),
          }),
        };
      case 'restart':
      case 'reboot':
        return { response: encodeResponse(command, { id, status: 'ok', data: { at: now } }), after: () => this.d.restart(command) };
    }
    return { response: this.error(command, id, { code: ErrorCode.Unsupported, message: `command ${command} not implemented` }) };
  }

  private ota(command: 'ota' | 'ota-cancel', id: string, args: unknown): Uint8Array {
    const ota = this.d.ota?.();
    if (!ota)
      return this.error(command, id, { code: ErrorCode.Unsupported, message: 'this agent does not run from A/B slots (ota.slotsDir)' });
    if (command === 'ota') {
      const job = args as UpdateJob;
      const r = ota.accept(job);
      return encodeResponse('ota', { id, status: 'ok', data: { campaign: job.campaign, target: r.target, step: r.step } });
    }
    const { campaign } = args as { campaign: string };
    const step = ota.cancel(campaign);
    if (step === undefined) return this.error(command, id, { code: ErrorCode.Failed, message: `no job of campaign ${campaign}` });
    return encodeResponse('ota-cancel', { id, status: 'ok', data: { campaign, step } });
  }

  private error(command: CommandName, id: string, error: ProtocolError): Uint8Array {
    const response: CommandResponse<CommandName> = {
      id,
      status: 'error',
      error: { code: error.code, message: error.message.slice(0, 256) },
    };
    if (error.path !== undefined && response.status === 'error') response.error.path = error.path.slice(0, 128);
    return encodeResponse(command, response);
  }
}

/** The correlation id of a request that failed validation, if it has a usable one. */
function idOf(bytes: Uint8Array): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as { id?: unknown };
    return typeof v.id === 'string' && /^[A-Za-z0-9_-]{1,36}$/.test(v.id) ? v.id : undefined;
  } catch {
    return undefined;
  }
}
