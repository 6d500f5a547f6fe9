import { type Action, can, ROLES } from '../domain/roles.ts';
import { MOVES, TICKET_ACTIONS, type TicketAction } from '../domain/ticket-flow.ts';
import { type Answer, call, need, refused, UsageError } from './api.ts';
import { alarmsTable, type CliAlarm, type CliTicket, type CliTimelineEntry, ticketDetail, ticketsTable } from './loop-format.ts';

/** The alarm console and the work-order loop at a dispatcher's, operator's or supervisor's terminal. */

type Move = Exclude<TicketAction, 'report'>;
const MOVE_VERBS = TICKET_ACTIONS.filter((a): a is Move => a !== 'report');

/** The roles that may (admin always may): what a user at the terminal asks for. */
const who = (action: Action) => `(${ROLES.filter((r) => r !== 'admin' && can(r, action)).join(', ')})`;

/** The usage, then the description in the help's second column (on a line of its own when the usage is longer). */
const column = (usage: string) => (usage.length < 30 ? usage.padEnd(30) : `${usage}\n${' '.repeat(32)}`);

export const LOOP_VERBS: Record<string, string> = {
  alarms: 'alarms [--state S] [--unit U] [--district D]   alarm episodes, newest first (not cleared unless --state)',
  ack: `ack <episode>                 ${who('answer-alarms')} acknowledge an active alarm`,
  shelve: `shelve <episode> --minutes N --reason TEXT   ${who('answer-alarms')} shelve an alarm`,
  tickets: `tickets [--all] [--state S] [--district D] [--department D] [--light green|yellow|red]
                                the queue, soonest deadline first (open tickets unless --all or --state)`,
  ticket: `ticket <id>                   one ticket with its timeline
                                (<id>, <ticket>: the id or any start of it only one ticket's id has, as git takes one)`,
  ...Object.fromEntries(
    MOVE_VERBS.map((m) => [
      m,
      column(
        `${m} <ticket> ${MOVES[m].reason === 'required' ? '--reason TEXT' : '[--reason TEXT]'}${m === 'dispatch' ? ' [--department D]' : ''}`,
      ) + `${who(MOVES[m].role as Action)} ticket move`,
    ]),
  ),
};

export interface LoopOptions {
  json?: boolean | undefined;
  all?: boolean | undefined;
  state?: string | undefined;
  unit?: string | undefined;
  district?: string | undefined;
  department?: string | undefined;
  light?: string | undefined;
  reason?: string | undefined;
  minutes?: string | undefined;
}

interface Ctx {
  o: LoopOptions;
  out(s: string): void;
  err(s: string): void;
  api: string;
  token: string | undefined;
  now: number;
  at: (ts: number) => string;
}

const query = (q: Record<string, string | undefined>) => {
  const p = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined));
  return p.size ? `?${p}` : '';
};

/** A ticket id whole (a UUID: any case, RFC 9562 §4), or what may be its first characters. */
const WHOLE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_PREFIX = /^[0-9a-f][0-9a-f-]{0,35}$/i;
/** Candidates named when a prefix is ambiguous. */
const SHOWN = 10;

/**
 * The ticket a person means by what they typed: a whole id as it is, or a prefix that starts
 * exactly one ticket's id, as git takes a commit's (the pages show 8 characters). A number, or
 * the prefix is unknown or ambiguous: the exit code, after saying which tickets it could be.
 */
async function ticketId(c: Ctx, typed: string | undefined): Promise<string | number> {
  const id = need(typed, 'ticket id');
  // Not a UUID's start: the fleet answers for it (404 when there is none).
  if (WHOLE_ID.test(id) || !ID_PREFIX.test(id)) return id;
  const prefix = id.toLowerCase();
  const r = await call(c.api, 'GET', `/api/tickets${query({ idPrefix: prefix, limit: String(SHOWN + 1) })}`, c.token);
  if (!r.ok) return refused(c, r, 'read');
  const ids = (r.body as { tickets: CliTicket[] }).tickets.map((t) => t.id);
  if (ids.length === 1) return ids[0] as string;
  if (ids.length === 0) {
    c.err(`no ticket id starts with ${prefix}\n`);
    return 4;
  }
  const more = ids.length > SHOWN ? `\n  and more` : '';
  c.err(`ticket id prefix ${prefix} is ambiguous; it starts:\n  ${ids.slice(0, SHOWN).join('\n  ')}${more}\ntype more of the id\n`);
  return 2;
}

/** Runs a loop verb; undefined when `verb` is not one. */
export function runLoopVerb(verb: string, rest: readonly string[], c: Ctx): Promise<number> | undefined {
  const { o } = c;
  const show = (r: Answer, text: () => string) => {
    c.out(o.json ? `${JSON.stringify(r.body, null, 2)}\n` : text());
    return 0;
  };
  const episode = () => encodeURIComponent(need(rest[0], 'alarm episode'));
  switch (verb) {
    case 'alarms':
      return (async () => {
        const r = await call(c.api, 'GET', `/api/alarms${query({ state: o.state, unit: o.unit, district: o.district })}`, c.token);
        if (!r.ok) return refused(c, r, 'read');
        return show(r, () => alarmsTable((r.body as { alarms: CliAlarm[] }).alarms, c.now));
      })();
    case 'ack':
      return (async () => {
        const r = await call(c.api, 'POST', `/api/alarms/${episode()}/acknowledge`, c.token);
        if (!r.ok) return refused(c, r, 'answer-alarms');
        return show(r, () => `${rest[0]} acknowledged\n`);
      })();
    case 'shelve':
      return (async () => {
        const minutes = Number(o.minutes);
        if (!Number.isInteger(minutes) || minutes < 1) throw new UsageError('--minutes must be a whole number of minutes');
        const body = { reason: need(o.reason, '--reason'), minutes };
        const r = await call(c.api, 'POST', `/api/alarms/${episode()}/shelve`, c.token, body);
        if (!r.ok) return refused(c, r, 'answer-alarms');
        return show(r, () => `${rest[0]} shelved until ${c.at((r.body as { shelvedUntil: number }).shelvedUntil)}\n`);
      })();
    case 'tickets':
      return (async () => {
        const open = o.all || o.state ? undefined : 'true';
        const q = query({ open, state: o.state, district: o.district, department: o.department, light: o.light });
        const r = await call(c.api, 'GET', `/api/tickets${q}`, c.token);
        if (!r.ok) return refused(c, r, 'read');
        return show(r, () => ticketsTable((r.body as { tickets: CliTicket[] }).tickets, c.now));
      })();
    case 'ticket':
      return (async () => {
        const id = await ticketId(c, rest[0]);
        if (typeof id === 'number') return id;
        const r = await call(c.api, 'GET', `/api/tickets/${encodeURIComponent(id)}`, c.token);
        if (!r.ok) return refused(c, r, 'read');
        const b = r.body as { ticket: CliTicket; timeline: CliTimelineEntry[]; names: Record<string, string> };
        return show(r, () => ticketDetail(b.ticket, b.timeline, b.names, c.now, c.at));
      })();
  }
  const move = MOVE_VERBS.find((m) => m === verb);
  if (!move) return undefined;
  return (async () => {
    const id = await ticketId(c, rest[0]);
    if (typeof id === 'number') return id;
    const body = {
      ...(o.reason ? { reason: o.reason } : {}),
      ...(move === 'dispatch' && o.department ? { department: o.department } : {}),
    };
    const r = await call(c.api, 'POST', `/api/tickets/${encodeURIComponent(id)}/${move}`, c.token, body);
    if (!r.ok) return refused(c, r, MOVES[move].role as Parameters<typeof refused>[2]);
    const t = r.body as CliTicket;
    return show(r, () => `${t.id} ${move}: now ${t.state}${t.department ? `, ${t.department}` : ''}\n`);
  })();
}
