import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { ErrorCode } from '../errors.ts';
import { StringEnum, Timestamp } from '../schema-kit.ts';
import { MediaAck } from './media.ts';
import { CampaignId, OTA_STEPS, ReleaseVersion, UpdateJob } from './ota.ts';
import {
  LiveStartArgs,
  LiveStartData,
  LiveStopArgs,
  LiveStopData,
  TALK_DOWN_MAX_AUDIO_BYTES,
  TalkDownArgs,
  TalkDownData,
} from './video.ts';

/**
 * Commands travel on `req/<name>` (to the unit) and are answered on `res/<name>` with the
 * request's correlation `id`. Each command names the schema of its `args` and of its `data`.
 */
const CorrelationId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,36}$' });

/** What a unit checks when a technician commissions it on site, in the order it runs them. */
export const COMMISSION_CHECKS = ['gps', 'signal', 'battery', 'charge', 'camera', 'upload'] as const;
export type CommissionCheck = (typeof COMMISSION_CHECKS)[number];

/** One line of a commissioning run: a check, its verdict and what was measured. */
export const CommissionItem = Type.Object(
  {
    check: StringEnum(COMMISSION_CHECKS),
    pass: Type.Boolean(),
    pending: Type.Optional(
      Type.Literal(true, {
        description:
          'Cannot be judged at this hour (no harvest in the dark is no fault): neither passed nor failed; `pass` is false. Judge it again when it can be.',
      }),
    ),
    detail: Type.String({ maxLength: 160, description: 'What was measured, in words a technician reads on site' }),
    value: Type.Optional(Type.Number()),
    /** When a check the run left pending was judged after it by the unit itself (the charge at first light). */
    judgedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CommissionItem = Static<typeof CommissionItem>;

const ConfigValue = Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean()]);

export const COMMANDS = {
  ping: {
    args: Type.Object({}, { additionalProperties: false }),
    data: Type.Object({ uptimeS: Type.Number({ minimum: 0 }), ts: Timestamp }, { additionalProperties: false }),
  },
  'config-get': {
    args: Type.Object(
      { keys: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })) },
      { additionalProperties: false },
    ),
    data: Type.Object({ config: Type.Record(Type.String({ maxLength: 64 }), ConfigValue) }, { additionalProperties: false }),
  },
  'config-set': {
    args: Type.Object(
      { config: Type.Record(Type.String({ maxLength: 64 }), ConfigValue, { maxProperties: 64 }) },
      { additionalProperties: false },
    ),
    data: Type.Object({ applied: Type.Array(Type.String()), restartRequired: Type.Boolean() }, { additionalProperties: false }),
  },
  restart: {
    args: Type.Object({}, { additionalProperties: false }),
    data: Type.Object({ at: Timestamp }, { additionalProperties: false }),
  },
  /** Runs the commissioning checklist; each item passes or fails with what was measured. */
  commission: {
    args: Type.Object({}, { additionalProperties: false }),
    data: Type.Object(
      {
        ts: Timestamp,
        items: Type.Array(CommissionItem, { maxItems: COMMISSION_CHECKS.length }),
      },
      { additionalProperties: false },
    ),
  },
  reboot: { args: Type.Object({}, { additionalProperties: false }), data: Type.Object({ at: Timestamp }, { additionalProperties: false }) },
  /**
   * Hands the unit an update job (see messages/ota.ts). The answer says the step the unit took it
   * into (`queued`, or `deferred`/`failed` when a check refused it at once, or the step of the same
   * campaign's job already under way); what follows is reported on the `ota` uplink.
   */
  ota: {
    args: UpdateJob,
    data: Type.Object({ campaign: CampaignId, target: ReleaseVersion, step: StringEnum(OTA_STEPS) }, { additionalProperties: false }),
  },
  /** Drops a campaign's job that has not reached the switch yet; one past it runs to its outcome. */
  'ota-cancel': {
    args: Type.Object({ campaign: CampaignId }, { additionalProperties: false }),
    data: Type.Object({ campaign: CampaignId, step: StringEnum(OTA_STEPS) }, { additionalProperties: false }),
  },
  'live-start': { args: LiveStartArgs, data: LiveStartData },
  'live-stop': { args: LiveStopArgs, data: LiveStopData },
  'talk-down': { args: TalkDownArgs, data: TalkDownData },
  /**
   * The fleet tells a unit what it holds of one recording (after a file completes, on a gap, and
   * for every unfinished recording when the unit comes online); the unit sends only what is
   * missing. `unknown`: the unit no longer has that recording.
   */
  'media-ack': {
    args: MediaAck,
    data: Type.Object({ state: StringEnum(['sending', 'done', 'unknown'] as const) }, { additionalProperties: false }),
  },
} as const satisfies Record<string, { args: TSchema; data: TSchema }>;

export type CommandName = keyof typeof COMMANDS;

/** Commands carry configuration, not data, and share one limit; a recorded talk-down message is the exception. */
export const COMMAND_MAX_BYTES = 8 * 1024;
const COMMAND_LIMITS: Partial<Record<CommandName, number>> = { 'talk-down': TALK_DOWN_MAX_AUDIO_BYTES + 1024 };
/** Largest request (and response) of this command, in either encoding. */
export function commandMaxBytes(name: CommandName): number {
  return COMMAND_LIMITS[name] ?? COMMAND_MAX_BYTES;
}
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export type CommandArgs<C extends CommandName> = Static<(typeof COMMANDS)[C]['args']>;
export type CommandData<C extends CommandName> = Static<(typeof COMMANDS)[C]['data']>;

/** A check that failed: not passed, and not one that could not be judged at this hour. */
export const commissionFailed = (i: CommissionItem): boolean => !i.pass && i.pending !== true;

export function requestSchema<C extends CommandName>(name: C) {
  return Type.Object(
    {
      id: CorrelationId,
      args: COMMANDS[name].args,
      /** A unit that receives the request after this time answers SW_ERR_EXPIRED instead of acting. */
      expires: Type.Optional(Timestamp),
    },
    { additionalProperties: false },
  );
}

export function responseSchema<C extends CommandName>(name: C) {
  return Type.Union([
    Type.Object({ id: CorrelationId, status: Type.Literal('ok'), data: COMMANDS[name].data }, { additionalProperties: false }),
    Type.Object(
      {
        id: CorrelationId,
        status: Type.Literal('error'),
        error: Type.Object(
          {
            code: StringEnum(Object.values(ErrorCode)),
            message: Type.String({ maxLength: 256 }),
            path: Type.Optional(Type.String({ maxLength: 128 })),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  ]);
}

export type CommandRequest<C extends CommandName> = { id: string; args: CommandArgs<C>; expires?: number };
export type CommandResponse<C extends CommandName> =
  | { id: string; status: 'ok'; data: CommandData<C> }
  | { id: string; status: 'error'; error: { code: ErrorCode; message: string; path?: string } };
