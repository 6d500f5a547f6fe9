/**
 * The slice of Node-RED's runtime API the Shouwang nodes use (node-red ships no types), written
 * down once so each node is checked against it.
 */
export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** Context in its asynchronous form, which every store (a file store without a cache too) takes. */
export interface ContextStore {
  /** Keys as an array: one read of a file store, the values as the callback's further arguments. */
  get(key: string | string[], store: string, cb: (err: Error | null | undefined, ...values: never[]) => void): void;
  /** Keys and values as two arrays: one write of a file store for all of them. */
  set(key: string | string[], value: unknown, store: string, cb: (err: Error | null | undefined) => void): void;
  keys(store: string, cb: (err: Error | null | undefined, keys?: never) => void): void;
}

export interface Node {
  id: string;
  context(): { global: ContextStore; flow: ContextStore };
  /** Absent when the node's type has credentials but none were set. */
  credentials: Record<string, string | undefined> | undefined;
  status(s: NodeStatus): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(what: unknown): void;
  send(msg: NodeMessage | null): void;
  on(event: 'input', fn: (msg: NodeMessage, send: (m: NodeMessage | null) => void, done: (err?: Error) => void) => void): void;
  on(event: 'close', fn: (done: () => void) => void): void;
}

export interface NodeAPI {
  nodes: {
    createNode(node: object, config: object): void;
    getNode(id: string): unknown;
    registerType(type: string, ctor: (this: Node, config: never) => void, opts?: { credentials?: Record<string, { type: string }> }): void;
  };
}
