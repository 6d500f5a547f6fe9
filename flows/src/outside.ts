/**
 * What the outside systems receive and what their answers mean, as pure functions: the 12345 work
 * order and the Open311 GeoReport v2 service request built from a ticket event, an answer turned
 * into a verdict, the backoff between tries, and a 12345 status callback turned into a move.
 */
import type { StatusChange, TicketEvent, WorkOrder, WorkOrderCallback } from '@shouwang/protocol';

export type Verdict =
  | { kind: 'delivered'; duplicate: boolean }
  | { kind: 'refused'; reason: string }
  | { kind: 'retry'; reason: string; afterMs: number | undefined };

/**
 * 2xx: delivered. 409: the outside already has this key (a second try after a lost answer), so
 * delivered too. 408 and 429 are "not now", like 5xx; any other 4xx refuses this order for good.
 */
export function verdict(status: number, body: string, retryAfter: string | null): Verdict {
  if (status >= 200 && status < 300) return { kind: 'delivered', duplicate: false };
  if (status === 409) return { kind: 'delivered', duplicate: true };
  const reason = `${status} ${body.slice(0, 500)}`.trim();
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'refused', reason };
  return { kind: 'retry', reason, afterMs: retryAfterMs(retryAfter) };
}

/** RFC 9110 §10.2.3: delay-seconds (an HTTP-date is not worth honouring from a webhook). */
function retryAfterMs(v: string | null): number | undefined {
  if (v === null || !/^\d{1,6}$/.test(v.trim())) return undefined;
  return Number(v.trim()) * 1000;
}

/** Exponential with full jitter, capped: try n (0-based) waits up to base × 2ⁿ. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

function address(e: TicketEvent): string {
  const g = e.ticket.grid;
  return [g.cell, g.community, g.street, g.district].filter((x): x is string => !!x).join(', ');
}

function attachments(e: TicketEvent, mediaBase: string): string[] {
  if (!mediaBase) return [];
  const base = mediaBase.replace(/\/+$/, '');
  const ev = e.ticket.evidence;
  return [
    ...ev.snapshots.map((id) => `${base}/snapshots/${encodeURIComponent(id)}`),
    ...ev.clips.map((id) => `${base}/clips/${encodeURIComponent(id)}`),
  ];
}

function description(e: TicketEvent): string {
  const t = e.ticket;
  const reports = t.alarmCount === 1 ? '1 report' : `${t.alarmCount} reports`;
  return `Unit ${t.unitId} raised ${t.alarmKind} (${t.severity}, ${reports}) at ${address(e) || 'an unknown place'}; department: ${t.department ?? 'to be dispatched'}.`;
}

export function workOrder(e: TicketEvent, mediaBase: string): WorkOrder {
  const t = e.ticket;
  return {
    idempotencyKey: t.idempotencyKey,
    event: e.type === 'ticket.created' ? 'created' : 'changed',
    revision: e.seq,
    code: t.id,
    title: `${t.alarmKind} · ${t.unitId}`,
    content: description(e),
    category: t.category,
    severity: t.severity,
    state: t.state,
    address: address(e),
    position: t.position,
    gridCell: t.grid.cell,
    deadline: new Date(t.deadlineAt).toISOString(),
    attachments: attachments(e, mediaBase),
  };
}

/** The key the 12345 platform deduplicates by: the episode for the creation, episode + revision for a change. */
export function workOrderKey(e: TicketEvent): string {
  return e.type === 'ticket.created' ? e.ticket.idempotencyKey : `${e.ticket.idempotencyKey}#${e.seq}`;
}

export interface Open311Options {
  jurisdictionId: string;
  /** Ticket category → service code; `*` for the rest. */
  serviceCodes: Record<string, string>;
  mediaBase: string;
  apiKey: string;
}

/** The attribute code that carries the episode, so the endpoint can refuse a second request for it. */
export const OPEN311_KEY_ATTRIBUTE = 'idempotency_key';

/**
 * `POST /requests.json` form fields (GeoReport v2, application/x-www-form-urlencoded): service code,
 * WGS-84 lat/long, address_string, description, media_url (one URL: the first snapshot) and the
 * episode as `attribute[idempotency_key]`.
 */
export function open311Request(e: TicketEvent, o: Open311Options): URLSearchParams {
  const t = e.ticket;
  const code = o.serviceCodes[t.category] ?? o.serviceCodes['*'];
  if (!code) throw new Error(`no Open311 service code for category ${t.category}`);
  const f = new URLSearchParams();
  if (o.apiKey) f.set('api_key', o.apiKey);
  if (o.jurisdictionId) f.set('jurisdiction_id', o.jurisdictionId);
  f.set('service_code', code);
  if (t.position) {
    f.set('lat', String(t.position.lat));
    f.set('long', String(t.position.lon));
  }
  const where = address(e);
  if (where) f.set('address_string', where);
  f.set('description', description(e));
  const media = attachments(e, o.mediaBase)[0];
  if (media) f.set('media_url', media);
  f.set(`attribute[${OPEN311_KEY_ATTRIBUTE}]`, t.idempotencyKey);
  return f;
}

const MOVES: Record<WorkOrderCallback['status'], StatusChange['action']> = {
  signed: 'sign',
  handling: 'handle',
  handled: 'feedback',
  closed: 'close',
};

/** A 12345 status callback as the move it asks for. */
export function fromWorkOrderCallback(c: WorkOrderCallback): StatusChange {
  return {
    ticketId: c.code,
    action: MOVES[c.status],
    source: '12345',
    ...(c.handler ? { actor: c.handler } : {}),
    ...(c.externalId ? { externalId: c.externalId } : {}),
    ...(c.feedback ? { feedback: c.feedback } : {}),
    ...(c.satisfaction ? { satisfaction: c.satisfaction } : {}),
  };
}
