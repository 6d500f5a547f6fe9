/** Hand-made MQTT 3.1.1 packets, for inputs no well-behaved client library will send. */
import { connect, type Socket } from 'node:net';

export function str(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

export function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), remainingLength(body.length), body]);
}

export interface ConnectOptions {
  clean?: boolean;
  /** `qos` may be 3 and `topic` any bytes: that is the point. */
  will?: { topic: string | Buffer; payload: Buffer | Uint8Array; qos: number; retain?: boolean };
  protocolName?: string;
  level?: number;
  keepalive?: number;
  /** Bytes after the last field, inside the Remaining Length. */
  trailing?: Buffer;
}

export function connectPacket(
  clientId: string,
  username: string,
  password: string,
  cleanOrOptions: boolean | ConnectOptions = true,
): Buffer {
  const o = typeof cleanOrOptions === 'boolean' ? { clean: cleanOrOptions } : cleanOrOptions;
  const will = o.will;
  let flags = 0xc0 | (o.clean === false ? 0 : 0x02);
  if (will) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  const keepalive = o.keepalive ?? 60;
  return packet(
    0x10,
    Buffer.concat([
      str(o.protocolName ?? 'MQTT'),
      Buffer.from([o.level ?? 0x04, flags, keepalive >> 8, keepalive & 0xff]),
      str(clientId),
      ...(will ? [str(Buffer.isBuffer(will.topic) ? will.topic : Buffer.from(will.topic)), str(Buffer.from(will.payload))] : []),
      str(username),
      str(password),
      o.trailing ?? Buffer.alloc(0),
    ]),
  );
}

export function subscribePacket(filter: string, qos: 0 | 1, messageId = 1): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([messageId >> 8, messageId & 0xff]), str(filter), Buffer.from([qos])]));
}

/** `from` is the local address to connect from (any of 127.0.0.0/8 is this host): another source. */
export function rawSocket(port: number, from?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', ...(from ? { localAddress: from } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * What the broker answers next: the first bytes it sends, or `closed` if it closes without a
 * word. Fails the test if neither happens within `timeoutMs`.
 */
export function reply(s: Socket, timeoutMs = 5000): Promise<Buffer | 'closed'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer and no close within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      done();
      resolve(d);
    };
    const onClose = () => {
      done();
      resolve('closed');
    };
    const done = () => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
    };
    s.on('data', onData);
    s.on('close', onClose);
    s.on('error', () => undefined);
  });
}

/** Resolves once the socket is closed by the broker (whatever it sent before); fails after `timeoutMs`. */
export function closed(s: Socket, timeoutMs = 5000): Promise<void> {
  if (s.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Logs in over a raw socket; resolves with the CONNACK return code, or `closed`. The socket is closed after. */
export async function login(port: number, id: string, password: string, from?: string): Promise<number | 'closed'> {
  const s = await rawSocket(port, from);
  try {
    s.write(connectPacket(id, id, password));
    const answer = await reply(s);
    return answer === 'closed' ? answer : (answer[3] as number);
  } finally {
    s.destroy();
  }
}

/**
 * Reads whole MQTT packets off a raw socket: `next()` resolves with the next packet (fixed
 * header included), or `closed`; fails after `timeoutMs` without either.
 */
export function packetReader(s: Socket): { next(timeoutMs?: number): Promise<Buffer | 'closed'> } {
  let buf = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | undefined;
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  s.on('close', () => {
    ended = true;
    wake?.();
  });
  s.on('error', () => undefined);
  const take = (): Buffer | undefined => {
    let length = 0;
    for (let i = 1; i <= 4 && i < buf.length; i++) {
      const b = buf[i] as number;
      length += (b & 0x7f) * 128 ** (i - 1);
      if (!(b & 0x80)) {
        if (buf.length < i + 1 + length) return undefined;
        const p = buf.subarray(0, i + 1 + length);
        buf = buf.subarray(i + 1 + length);
        return p;
      }
    }
    return undefined;
  };
  return {
    async next(timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const p = take();
        if (p) return p;
        if (ended) return 'closed';
        const left = end - Date.now();
        if (left <= 0) throw new Error(`no packet and no close within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      }
    },
  };
}
