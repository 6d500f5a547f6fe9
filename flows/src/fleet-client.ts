import type { ProtocolError } from '@shouwang/protocol';

export interface Answer {
  status: number;
  body: unknown;
}

/** An answer outside 2xx as an Error a Catch node can read: status, the fleet's code and message. */
export class FleetError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, body: unknown) {
    const e = (body as { error?: Partial<ProtocolError> & { code?: string } } | null)?.error;
    super(`fleet answered ${status}${e?.code ? ` ${e.code}` : ''}: ${e?.message ?? 'no message'}`);
    this.status = status;
    this.code = e?.code ?? `HTTP_${status}`;
  }
}

/** The fleet API as the flows' token calls it; a time-out is an error, never a hang. */
export class FleetClient {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(base: string, token: string, timeoutMs = 10_000) {
    this.#base = base.replace(/\/+$/, '');
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  /** `o.heldMs`: how long the fleet may hold this call (a waiting lease), on top of the time-out; `o.signal` aborts it. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, o: { heldMs?: number; signal?: AbortSignal } = {}): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.#timeoutMs + (o.heldMs ?? 0));
    const res = await fetch(`${this.#base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout,
    }).catch((err: Error & { cause?: { code?: string } }) => {
      throw new Error(`fleet unreachable at ${this.#base}: ${err.cause?.code ?? err.message}`, { cause: err });
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { code: 'NOT_JSON', message: text.slice(0, 200) } };
    }
    if (res.status < 200 || res.status >= 300) throw new FleetError(res.status, parsed);
    return parsed;
  }
}
