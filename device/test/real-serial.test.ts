/**
 * The technician's bench: one config runs the agent in real mode with a real serial GPS and a real
 * serial modem (here pseudo-terminals, opened by serialport exactly as /dev/ttyUSB1 would be) and
 * the rest of the board simulated (real.simulateIo). Behind each pseudo-terminal sits the
 * simulator's receiver or modem, relayed by a small python3 pty program: the bytes on the tty are
 * the simulator's NMEA and AT answers.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { boardDefinition, openBoard, systemClock } from '@shouwang/hardware';
import { decodeMessage, type Link, type Location } from '@shouwang/protocol';
import { createLogger } from '@shouwang/runtime';
import { Value } from '@sinclair/typebox/value';
import { DeviceConfig } from '../src/config.ts';
import { openDeviceBoard } from '../src/services/board.ts';
import { startDevice } from '../src/services/device.ts';
import { startBroker } from './broker.ts';
import { until } from './wait.ts';

/** Opens a pty pair, prints the slave's path, then relays stdin → master and master → stdout. */
const PTY_RELAY = `
import os, pty, select, sys, tty
m, s = pty.openpty()
tty.setraw(s)
sys.stdout.write(os.ttyname(s) + "\\n")
sys.stdout.flush()
while True:
    r, _, _ = select.select([0, m], [], [])
    if 0 in r:
        d = os.read(0, 4096)
        if not d:
            break
        os.write(m, d)
    if m in r:
        os.write(1, os.read(m, 4096))
`;

/** A pseudo-terminal whose far end is `device` (a simulator's serial line); resolves with its path. */
async function ptyFor(t: TestContext, device: Duplex): Promise<string> {
  const relay: ChildProcess = spawn('python3', ['-c', PTY_RELAY], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    if (relay.exitCode !== null) return;
    const exited = once(relay, 'exit');
    relay.kill();
    await exited;
  });
  const stdout = relay.stdout;
  const stdin = relay.stdin;
  assert.ok(stdout && stdin);
  let head = '';
  const path = await new Promise<string>((resolve, reject) => {
    relay.once('error', reject);
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const nl = head.indexOf('\n');
      if (nl < 0) return;
      stdout.off('data', onData);
      const rest = head.slice(nl + 1);
      if (rest) device.write(Buffer.from(rest, 'latin1'));
      stdout.on('data', (chunk: Buffer) => device.write(chunk));
      resolve(head.slice(0, nl));
    };
    stdout.on('data', onData);
  });
  device.on('data', (chunk: Buffer) => stdin.write(chunk));
  return path;
}

test('one config: real serial GPS and modem on their own ports, the rest of the board simulated', async (t) => {
  const broker = await startBroker(t, { closeWith: false });
  // The far side: the simulator's receiver and modem, each behind a pseudo-terminal.
  const far = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: {
      unitId: 'bench-far',
      site: { lat: 45.7578, lon: 126.6425 },
      scenario: 'harbin-winter',
      link: 'lte',
      clock: systemClock,
      seed: 9,
    },
  });
  t.after(() => far.close());
  const gpsPath = await ptyFor(t, far.gps.stream);
  const modemPath = await ptyFor(t, far.modem.stream);
  const dir = await mkdtemp(join(tmpdir(), 'sw-real-serial-'));
  const cfg = Value.Default(
    DeviceConfig,
    Value.Convert(DeviceConfig, {
      unitId: 'hrb-050',
      mode: 'real',
      dataDir: dir,
      mqtt: { url: broker.url },
      gps: { path: gpsPath, baudRate: 38_400 },
      modem: { path: modemPath },
      real: { simulateIo: true },
      report: { intervalS: 2 },
    }),
  ) as DeviceConfig;
  const log = createLogger('test', { level: process.env.TEST_LOG ?? 'silent' });
  const board = await openDeviceBoard(cfg, log);
  let device = await startDevice(cfg, board.device, log, { restart: () => undefined });
  t.after(async () => {
    await device.close();
    await board.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });
  const uplinks = () =>
    broker.received.flatMap((r) => {
      const m = decodeMessage(r.topic, r.payload);
      return m.ok && m.value.type === 'uplink' ? [m.value] : [];
    });
  const location = () => uplinks().find((m) => m.kind === 'location')?.payload as Location | undefined;
  // The first poll may run before the modem's port is open (all unknown): wait for one it answered.
  const link = () => uplinks().find((m) => m.kind === 'link' && m.payload.registered !== undefined)?.payload as Link | undefined;
  await until('a 3D fix read from the GPS tty', () => location()?.fix === '3d', 20_000);
  await until('a link read from the modem tty', () => link() !== undefined, 20_000);
  assert.ok(Math.abs((location()?.lat ?? 0) - 45.7578) < 0.001);
  assert.deepEqual([link()?.type, link()?.registered, link()?.operator, link()?.rssiDbm], ['lte', true, 'CHINA MOBILE', -79]);
  assert.deepEqual([link()?.ports?.gps.path, link()?.ports?.gps.state], [gpsPath, 'open']);
  assert.deepEqual([link()?.ports?.modem.path, link()?.ports?.modem.state], [modemPath, 'open']);
  await until('power from the simulated monitors', () => uplinks().some((m) => m.kind === 'power'), 20_000);

  // The restart command restarts the agent in this process: it must get its (locked) ttys back.
  await device.close();
  device = await startDevice(cfg, board.device, log, { restart: () => undefined });
  await until('both ports open again', () => device.ports.gps?.state === 'open' && device.ports.modem?.state === 'open', 10_000);
  await until('a fix read after the restart', () => device.gps.current()?.fix === '3d', 10_000);
});
