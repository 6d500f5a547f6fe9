/** What an outside answer means, the backoff between tries, and a 12345 callback as a move. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, fromWorkOrderCallback, verdict } from '../src/outside.ts';

test('answers: 2xx delivered, 409 a recognised repeat, 408/429/5xx again (Retry-After read), other 4xx refused for good', () => {
  assert.deepEqual(verdict(201, '', null), { kind: 'delivered', duplicate: false });
  assert.deepEqual(verdict(409, 'dup', null), { kind: 'delivered', duplicate: true });
  assert.deepEqual(verdict(422, 'no such category', null), { kind: 'refused', reason: '422 no such category' });
  assert.deepEqual(verdict(400, '', null), { kind: 'refused', reason: '400' });
  assert.deepEqual(verdict(429, '', '7'), { kind: 'retry', reason: '429', afterMs: 7000 });
  assert.deepEqual(verdict(408, '', 'Wed, 21 Oct 2015 07:28:00 GMT'), { kind: 'retry', reason: '408', afterMs: undefined });
  assert.deepEqual(verdict(503, 'busy', null), { kind: 'retry', reason: '503 busy', afterMs: undefined });
  assert.equal((verdict(500, 'x'.repeat(5000), null) as { reason: string }).reason.length, 504, 'the reason is cut');
});

test('backoff doubles per try up to the cap, jittered below it', () => {
  const top = () => 1;
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((n) => backoffMs(n, 500, 3000, top)),
    [500, 1000, 2000, 3000, 3000],
  );
  assert.equal(
    backoffMs(3, 500, 3000, () => 0.5),
    1500,
  );
});

test('a 12345 status callback is the move it names, with its feedback and satisfaction', () => {
  assert.deepEqual(fromWorkOrderCallback({ code: 't-1', status: 'signed', handler: '张三', externalId: 'WO-9' }), {
    ticketId: 't-1',
    action: 'sign',
    source: '12345',
    actor: '张三',
    externalId: 'WO-9',
  });
  assert.equal(fromWorkOrderCallback({ code: 't-1', status: 'handling' }).action, 'handle');
  assert.deepEqual(fromWorkOrderCallback({ code: 't-1', status: 'handled', feedback: 'fence repaired' }), {
    ticketId: 't-1',
    action: 'feedback',
    source: '12345',
    feedback: 'fence repaired',
  });
  assert.deepEqual(fromWorkOrderCallback({ code: 't-1', status: 'closed', satisfaction: 'unsatisfied' }), {
    ticketId: 't-1',
    action: 'close',
    source: '12345',
    satisfaction: 'unsatisfied',
  });
});
