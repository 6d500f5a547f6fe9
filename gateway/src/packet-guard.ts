import { Duplex } from 'node:stream';
import { type ConnectRefusal, checkConnect } from './domain/connect-check.ts';
import { PacketScanner, type ScanViolation } from './domain/packet-scanner.ts';

export type GuardViolation = ScanViolation | ConnectRefusal | 'connect-too-large' | 'pre-auth-bytes';

export interface GuardOptions {
  /** Largest packet after login; a header announcing more ends the connection before its body is read. */
  maxPacketBytes: number;
  /** Largest CONNECT; it is buffered whole and checked before the broker sees any of it. */
  maxConnectBytes: number;
  /** Bytes a connection may send, CONNECT included, until its login is accepted (CONNACK 0). */
  maxPreAuthBytes: number;
  onViolation: (reason: GuardViolation) => void;
  /** Once, when the connection's CONNACK 0 leaves or the connection ends without one. */
  onHandshakeOver: () => void;
}

const CONNACK_1 = Buffer.from([0x20, 0x02, 0x00, 0x01]);

/**
 * Wraps a client socket for Aedes. Until the login is accepted it holds the connection to a few
 * kilobytes: the CONNECT is buffered whole (up to `maxConnectBytes`), checked byte by byte
 * (domain/connect-check.ts) and only then handed on, and whatever else arrives before CONNACK 0
 * counts against `maxPreAuthBytes`. After it, a packet announcing more than `maxPacketBytes`
 * ends the connection from its header alone: Aedes's parser would otherwise buffer it whole.
 */
export function guardConnection(socket: Duplex, remoteAddress: string | undefined, options: GuardOptions): Duplex {
  const scanner = new PacketScanner(options.maxPacketBytes);
  let connect: Buffer | undefined = Buffer.alloc(0); // until the CONNECT is complete and checked
  let preAuthBytes = 0;
  let accepted = false;
  let handshakeOver = false;
  const endHandshake = (ok: boolean) => {
    if (handshakeOver) return;
    handshakeOver = true;
    accepted = ok;
    options.onHandshakeOver();
  };

  // Outgoing packets are gathered and written once per event-loop turn: Aedes writes every
  // delivery and every PUBACK on its own, and one socket write (a syscall and a TCP segment) per
  // packet was the broker's largest single cost. The wait is at most one turn of the loop.
  let pending: Buffer[] = [];
  let scheduled = false;
  // The first four bytes out are the CONNACK ([MQTT-3.2.0-1]); its return code says whether the login was accepted.
  let connack: number[] | undefined = [];
  const watchConnack = (chunk: Buffer) => {
    if (!connack) return;
    for (const b of chunk) {
      connack.push(b);
      if (connack.length === 4) {
        endHandshake(connack[0] === 0x20 && connack[3] === 0);
        connack = undefined;
        return;
      }
    }
  };
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    pending = [];
    if (!socket.destroyed) socket.write(data);
  };
  const queued = (cb: (err?: Error | null) => void) => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    // Complete at once unless the socket pushes back: waiting for each flush would serialise
    // every PUBACK behind the previous one.
    if (socket.writableNeedDrain) socket.once('drain', () => cb());
    else cb();
  };
  const conn = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      watchConnack(chunk);
      pending.push(chunk);
      queued(cb);
    },
    // mqtt-packet corks the stream around each packet: its parts arrive here together.
    writev(chunks, cb) {
      for (const c of chunks) {
        watchConnack(c.chunk as Buffer);
        pending.push(c.chunk as Buffer);
      }
      queued(cb);
    },
    final(cb) {
      flush();
      socket.end(cb);
    },
    // What Aedes wrote before closing (a CONNACK refusing a login) still goes out first.
    destroy(err, cb) {
      flush();
      socket.destroy();
      endHandshake(false);
      cb(err);
    },
  });
  // Aedes reads the peer address for logs and per-source limits.
  Object.defineProperty(conn, 'remoteAddress', { value: remoteAddress });

  const cut = (reason: GuardViolation, reply?: Buffer) => {
    options.onViolation(reason);
    socket.removeAllListeners('data');
    // Written before the socket is destroyed, as a CONNACK refusing a login is (see destroy above).
    if (reply) socket.write(reply);
    conn.destroy();
  };
  const pass = (chunk: Buffer) => {
    const r = scanner.feed(chunk);
    if (!r.ok) return cut(r.reason);
    if (!conn.push(chunk)) socket.pause();
  };

  socket.on('data', (chunk: Buffer) => {
    if (!accepted) {
      preAuthBytes += chunk.length;
      if (preAuthBytes > options.maxPreAuthBytes) return cut('pre-auth-bytes');
    }
    if (!connect) return pass(chunk);
    connect = Buffer.concat([connect, chunk]);
    const frame = frameOf(connect);
    if (frame === 'incomplete') return;
    if (frame === 'malformed') return cut('packet-malformed');
    if ((connect[0] as number) >> 4 !== 1) return cut('packet-before-connect'); // [MQTT-3.1.0-1]
    // [MQTT-2.2.2-2]: a CONNECT's fixed-header flags are reserved, all zero.
    if (connect[0] !== 0x10) return cut('packet-malformed');
    if (frame.length > options.maxConnectBytes) return cut('connect-too-large');
    if (connect.length < frame.start + frame.length) return;
    const verdict = checkConnect(connect.subarray(frame.start, frame.start + frame.length));
    if (!verdict.ok) return cut(verdict.reason, verdict.connack1 ? CONNACK_1 : undefined);
    const all = connect;
    connect = undefined;
    pass(all);
  });
  socket.on('end', () => conn.push(null));
  socket.on('close', () => conn.destroy());
  socket.on('error', (err: Error) => conn.destroy(err));
  return conn;
}

/** Where the first packet's body starts and how long it is, from its fixed header ([MQTT-2.2]). */
function frameOf(b: Buffer): { start: number; length: number } | 'incomplete' | 'malformed' {
  let length = 0;
  for (let i = 1; i <= 4; i++) {
    if (i >= b.length) return 'incomplete';
    const byte = b[i] as number;
    length += (byte & 0x7f) * 128 ** (i - 1);
    if (!(byte & 0x80)) return { start: i + 1, length };
  }
  return 'malformed';
}
