import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HandshakeGate } from '../src/domain/handshake-gate.ts';

test('the handshake gate admits up to its limit and the rest in arrival order', () => {
  const gate = new HandshakeGate<string>(2);
  const ran: string[] = [];
  for (const k of ['a', 'b', 'c', 'd', 'e']) gate.enter(k, () => ran.push(k));
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(gate.queued, 3);
  gate.leave('d'); // went away while waiting: never runs, takes no slot
  gate.leave('a');
  assert.deepEqual(ran, ['a', 'b', 'c']);
  gate.leave('a'); // twice (ready, then its socket closes): frees nothing more
  assert.deepEqual(ran, ['a', 'b', 'c']);
  gate.leave('b');
  assert.deepEqual(ran, ['a', 'b', 'c', 'e']);
  assert.equal(gate.inFlight, 2);
  assert.equal(gate.queued, 0);
  gate.leave('c');
  gate.leave('e');
  assert.equal(gate.inFlight, 0);
  assert.throws(() => new HandshakeGate(0), RangeError);
});
