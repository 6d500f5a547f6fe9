/** The lanes' bookkeeping on its own: when an event is settled, and which lane may take more. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lanes } from '../src/lanes.ts';

test('an event is settled once every lane reported: a dead letter if any refused it, nothing if any deferred it', () => {
  const l = new Lanes(['a', 'b'], 10);
  l.add(1, 1000);
  l.add(2, 1000);
  l.add(3, 1000);
  assert.equal(l.report(1, 'a', { outcome: 'delivered' }), undefined);
  assert.deepEqual(l.report(1, 'b', { outcome: 'delivered' }), { seq: 1, outcome: 'delivered' });
  assert.equal(l.report(2, 'b', { outcome: 'dead-letter', reason: 'refused', target: 'open311' }), undefined);
  assert.deepEqual(l.report(2, 'a', { outcome: 'delivered' }), { seq: 2, outcome: 'dead-letter', reason: 'refused', target: 'open311' });
  assert.equal(l.report(3, 'a', { outcome: 'delivered' }), undefined);
  assert.equal(l.report(3, 'b', { outcome: 'deferred' }), undefined);
  assert.equal(l.size, 0);
  // A report from no lane (a flow wired another way) stands for the whole event.
  l.add(4, 1000);
  assert.deepEqual(l.report(4, undefined, { outcome: 'delivered' }), { seq: 4, outcome: 'delivered' });
});

test('a full lane is skipped while another has room; what a lane delivered is not sent to it again', () => {
  const l = new Lanes(['fast', 'stalled'], 2);
  assert.deepEqual(l.add(1, 1000), { skip: [], delivered: [] });
  assert.deepEqual(l.add(2, 1000), { skip: [], delivered: [] });
  l.report(1, 'fast', { outcome: 'delivered' });
  l.report(2, 'fast', { outcome: 'delivered' });
  assert.equal(l.room(), 2, 'the fast lane has room though the stalled one is full');
  assert.deepEqual(l.add(3, 1000), { skip: ['stalled'], delivered: [] });
  l.report(3, 'fast', { outcome: 'delivered' });
  l.report(3, 'stalled', { outcome: 'deferred' });
  l.add(4, 1000);
  l.add(5, 1000);
  assert.equal(l.room(), 0, 'both full: wait');
  // Leases run out; event 3 comes again: the fast lane already has it.
  l.lapse(1000);
  assert.deepEqual([l.size, l.room()], [0, 2]);
  assert.deepEqual(l.add(3, 2000), { skip: [], delivered: ['fast'] });
  assert.equal(l.report(3, 'fast', { outcome: 'delivered' }), undefined);
  assert.deepEqual(l.report(3, 'stalled', { outcome: 'delivered' }), { seq: 3, outcome: 'delivered' });
});
