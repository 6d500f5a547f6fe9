/**
 * Stable error codes shared by device, gateway, fleet and flows. They appear in command
 * responses, rejection counters and logs, so they never change meaning once published.
 */
export const ErrorCode = {
  /** Topic is not in the sw/v1 namespace, has a bad unit id or an unknown leaf. */
  Topic: 'SW_ERR_TOPIC',
  /** Payload is neither a JSON object nor a compact (CBOR array) payload, or does not parse. */
  Encoding: 'SW_ERR_ENCODING',
  /** Payload parsed but does not match the schema for its topic; `path` names the field. */
  Schema: 'SW_ERR_SCHEMA',
  /** Payload or topic is over the size limit for its kind. */
  TooLarge: 'SW_ERR_TOO_LARGE',
  /** A command this unit does not implement. */
  Unsupported: 'SW_ERR_UNSUPPORTED',
  /** A command failed while running; `message` says why. */
  Failed: 'SW_ERR_FAILED',
  /** A command arrived after its `expires` time and was not run. */
  Expired: 'SW_ERR_EXPIRED',
  /** The sender may not do this (ACL, role). */
  Forbidden: 'SW_ERR_FORBIDDEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  /** JSON pointer of the failing field, e.g. `/soc`, when one is known. */
  path?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export function fail(code: ErrorCode, message: string, path?: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}
