/**
 * Harness vocabulary: `startUnit(t, opts)` runs one whole agent in this process on the hardware
 * simulator (`openBoard(def, { mode: 'sim' })`) against a real Aedes from `startBroker`, with a
 * scaled clock so simulated hours pass in seconds. It returns the running device (drivers, outbox,
 * agent), the simulator's control (`sim`: fault injection and truth) and the broker. `decoded()`
 * lists what the broker accepted from the unit, decoded with the protocol.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type SimControl, scaledClock } from '@shouwang/hardware';
import {
  type CommandArgs,
  type CommandName,
  type CommandResponse,
  type DecodedMessage,
  decodeMessage,
  decodeResponse,
  encodeRequest,
  topics,
} from '@shouwang/protocol';
import { createLogger, type Logger } from '@shouwang/runtime';
import { Value } from '@sinclair/typebox/value';
import { DeviceConfig } from '../src/config.ts';
import { type OpenedBoard, openDeviceBoard } from '../src/services/board.ts';
import { type RunningDevice, startDevice } from '../src/services/device.ts';
import { connectMqtt } from '../src/services/mqtt-connect.ts';
import { startBroker, type TestBroker } from './broker.ts';

export interface Unit {
  /** The running agent; a test that restarts it in place puts the new one here (teardown closes this one). */
  device: RunningDevice;
  board: OpenedBoard;
  log: Logger;
  sim: SimControl;
  broker: TestBroker;
  cfg: DeviceConfig;
  decoded(): DecodedMessage[];
}

export interface UnitOptions {
  timeScale: number;
  config?: Record<string, unknown>;
  simSoc?: number;
  log?: Logger;
  /** Simulated start time (ms since epoch). */
  start?: number;
}

export async function startUnit(t: TestContext, o: UnitOptions): Promise<Unit> {
  const broker = await startBroker(t, { closeWith: false });
  const dir = await mkdtemp(join(tmpdir(), 'sw-unit-'));
  const cfg = Value.Default(
    DeviceConfig,
    Value.Convert(DeviceConfig, {
      unitId: 'hrb-001',
      mode: 'sim',
      dataDir: dir,
      mqtt: { url: broker.url },
      sim: { lat: 45.7578, lon: 126.6425, timeScale: o.timeScale },
      // ffmpeg records only in the tests about video (device/test/video-control.test.ts): an encoder per unit would load a 2-core machine.
      video: { enabled: false },
      ...o.config,
    }),
  ) as DeviceConfig;
  const log = o.log ?? createLogger('test', { level: 'silent' });
  const clock = scaledClock(o.timeScale, o.start ?? Date.now());
  const board = await openDeviceBoard(cfg, log, { clock, ...(o.simSoc === undefined ? {} : { simSoc: o.simSoc }) });
  const device = await startDevice(cfg, board.device, log, { restart: () => undefined });
  const sim = board.handles.sim;
  if (!sim) throw new Error('sim board without SimControl');
  const unit: Unit = {
    device,
    board,
    log,
    sim,
    broker,
    cfg,
    decoded: () =>
      broker.received.flatMap((r) => {
        const m = decodeMessage(r.topic, r.payload);
        return m.ok ? [m.value] : [];
      }),
  };
  t.after(async () => {
    await unit.device.close();
    await board.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });
  return unit;
}

/** Sends one command to the unit as the fleet would (a technician's client on the broker) and resolves with its response. */
export async function request<C extends CommandName>(u: Unit, command: C, id: string, args: CommandArgs<C>): Promise<CommandResponse<C>> {
  const client = connectMqtt(u.broker.url, { clientId: `tech-${id}`, protocolVersion: 4, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const got = new Promise<Buffer>((resolve) => client.on('message', (_t, payload) => resolve(payload)));
  await client.subscribeAsync(topics.response(u.cfg.unitId, command), { qos: 1 });
  await client.publishAsync(topics.request(u.cfg.unitId, command), Buffer.from(encodeRequest(command, { id, args })), { qos: 1 });
  const res = decodeResponse(command, await got);
  await client.endAsync();
  if (!res.ok || res.value.id !== id) throw new Error(`no valid response to ${command}: ${JSON.stringify(res)}`);
  return res.value;
}

/** Runs the commissioning checklist over the broker; resolves with its items. */
export async function commission(u: Unit, id: string) {
  const res = await request(u, 'commission', id, {});
  if (res.status !== 'ok') throw new Error(`commissioning answered ${JSON.stringify(res)}`);
  return res.data.items;
}
