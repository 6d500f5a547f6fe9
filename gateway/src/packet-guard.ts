import { Duplex } from 'node:stream';
import { PacketScanner, type ScanResult } from './domain/packet-scanner.ts';

/**
 * Wraps a client socket for Aedes so that a packet announcing more than `maxPacketBytes` ends
 * the connection before its body is read: Aedes's parser would otherwise buffer it whole.
 */
export function guardConnection(
  socket: Duplex,
  remoteAddress: string | undefined,
  maxPacketBytes: number,
  onViolation: (r: Exclude<ScanResult, { ok: true }>) => void,
): Duplex {
  const scanner = new PacketScanner(maxPacketBytes);
  // Outgoing packets are gathered and written once per event-loop turn: Aedes writes every
  // delivery and every PUBACK on its own, and one socket write (a syscall and a TCP segment) per
  // packet was the broker's largest single cost. The wait is at most one turn of the loop.
  let pending: Buffer[] = [];
  let scheduled = false;
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
      pending.push(chunk);
      queued(cb);
    },
    // mqtt-packet corks the stream around each packet: its parts arrive here together.
    writev(chunks, cb) {
      for (const c of chunks) pending.push(c.chunk as Buffer);
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
      cb(err);
    },
  });
  // Aedes reads the peer address for logs and per-source limits.
  Object.defineProperty(conn, 'remoteAddress', { value: remoteAddress });
  socket.on('data', (chunk: Buffer) => {
    const r = scanner.feed(chunk);
    if (!r.ok) {
      onViolation(r);
      socket.destroy();
      conn.destroy();
      return;
    }
    if (!conn.push(chunk)) socket.pause();
  });
  socket.on('end', () => conn.push(null));
  socket.on('close', () => conn.destroy());
  socket.on('error', (err: Error) => conn.destroy(err));
  return conn;
}
