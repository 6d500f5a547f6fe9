/**
 * PortSupervisor on node:test mock timers: a port that cannot be opened is `failed` with the reason
 * and retried with capped exponential backoff, said once; once it opens, the driver gets the
 * stream. The link is a small stateful stand-in (no such device until `plugged`), not a mock.
 */
import assert from 'node:assert/strict';
import { type Duplex, duplexPair } from 'node:stream';
import { test } from 'node:test';
import { type SerialLink, systemClock } from '@shouwang/hardware';
import { PortSupervisor } from '../src/services/serial-port.ts';
import { capture } from './log-capture.ts';

/** A device that is not there until `plugged`: each open() before that fails as the kernel would. */
class UnpluggedPort {
  plugged = false;
  readonly opens: number[] = [];
  private current: Duplex | undefined;
  readonly link: SerialLink;

  constructor(path: string) {
    const self = this;
    this.link = {
      path,
      baudRate: 9600,
      get stream(): Duplex {
        if (!self.current) throw new Error('not open');
        return self.current;
      },
      open: async () => {
        self.opens.push(Date.now());
        if (!self.plugged) throw new Error(`cannot open ${path}: ENOENT: no such file or directory`);
        [self.current] = duplexPair();
        return self.current;
      },
      close: async () => {
        self.current?.destroy();
      },
    };
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

test('a port that cannot be opened is failed with its reason, retried at 1, 2, 4 … s capped at 60 s, and said once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  const { log, lines } = capture('info');
  const port = new UnpluggedPort('/dev/ttyUSB7');
  const attached: Duplex[] = [];
  const sup = new PortSupervisor({
    part: 'gps',
    link: port.link,
    clock: systemClock,
    log,
    attach: (s) => attached.push(s),
    detach: () => undefined,
    quiet: () => false,
    checkMs: 1000,
  });
  t.after(() => sup.stop());
  sup.start();
  await settle();
  assert.equal(sup.state, 'failed');
  assert.match(sup.error ?? '', /cannot open \/dev\/ttyUSB7: ENOENT/);
  for (let s = 0; s < 200; s++) {
    t.mock.timers.tick(1000);
    await settle();
  }
  // Opened at 0, then after 1, 2, 4, 8, 16, 32, 60, 60 … s.
  const gaps = port.opens.slice(1).map((at, i) => at - (port.opens[i] ?? 0));
  assert.deepEqual(gaps.slice(0, 8), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  const failures = lines.filter((l) => l.msg === 'gps port cannot be opened; retrying with backoff');
  assert.equal(failures.length, 1, 'said once, not at every retry');
  assert.deepEqual([failures[0]?.part, failures[0]?.port], ['gps', '/dev/ttyUSB7']);
  port.plugged = true;
  t.mock.timers.tick(60_000);
  await settle();
  assert.equal(sup.state, 'open');
  assert.equal(attached.length, 1);
  assert.equal(sup.error, undefined);
});
