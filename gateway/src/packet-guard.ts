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
  const conn = new Duplex({
    read() {
      socket.resume();
    },
    // Complete at once unless the socket pushes back: waiting for each flush would serialise
    // every PUBACK behind the previous one.
    write(chunk: Buffer, _enc, cb) {
      if (socket.write(chunk)) cb();
      else socket.once('drain', () => cb());
    },
    // mqtt-packet corks the stream around each packet; hand the socket one buffer, not five.
    writev(chunks, cb) {
      if (socket.write(Buffer.concat(chunks.map((c) => c.chunk as Buffer)))) cb();
      else socket.once('drain', () => cb());
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
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
