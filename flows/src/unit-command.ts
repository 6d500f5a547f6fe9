import { randomUUID } from 'node:crypto';
import {
  COMMAND_NAMES,
  COMMANDS,
  type CommandName,
  checkValue,
  decodeResponse,
  encodeRequest,
  filters,
  isUnitId,
  parseTopic,
  topics,
} from '@shouwang/protocol';
import type { FleetConfigNode } from './fleet-node.ts';
import type { Node, NodeAPI } from './red.ts';

interface Config {
  fleet: string;
  /** The command, or '' to take `msg.command`. */
  command?: CommandName | '';
  /** The unit, or '' to take `msg.unitId`. */
  unitId?: string;
  timeoutS?: string;
}

export class CommandRefused extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * `shouwang unit command`: sends a command request to one unit over the broker (a service account
 * may publish requests) and sends the unit's answer on: `payload` = its data. Unit, command and
 * args are checked against the protocol before anything is sent; the unit's refusal (its error
 * code) and no answer in time end in done(err) for a Catch node.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang unit command', function (this: Node, config: Config) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet) {
      this.status({ fill: 'red', shape: 'ring', text: 'no fleet configured' });
      return;
    }
    const timeoutMs = Math.max(1000, Number(config.timeoutS ?? 30) * 1000 || 30_000);
    const waiting = new Map<string, { answer: (bytes: Buffer, command: CommandName) => void; cancel: () => void }>();
    let client: ReturnType<FleetConfigNode['mqtt']> | undefined;
    const onMessage = (topic: string, bytes: Buffer) => {
      const t = parseTopic(topic);
      if (!t.ok || t.value.type !== 'response') return;
      // The correlation id is inside the payload; each waiter decodes with its own command's schema.
      for (const w of waiting.values()) w.answer(bytes, t.value.command);
    };
    const broker = () => {
      if (!client) {
        client = fleet.mqtt();
        client.on('message', onMessage);
        const subscribe = () => client?.subscribe(filters.allResponses(), { qos: 1 });
        client.on('connect', subscribe);
        if (client.connected) subscribe();
      }
      return client;
    };

    // Subscribed before the first input, so an answer cannot overtake the subscription.
    try {
      broker();
    } catch (err) {
      this.status({ fill: 'red', shape: 'ring', text: (err as Error).message });
    }

    this.on('input', (msg, send, done) => {
      const command = (config.command || msg.command) as CommandName;
      const unitId = String(config.unitId || msg.unitId || '');
      if (!COMMAND_NAMES.includes(command)) {
        done(new CommandRefused('SW_ERR_SCHEMA', `not a command: ${JSON.stringify(command)} (one of ${COMMAND_NAMES.join(', ')})`));
        return;
      }
      if (!isUnitId(unitId)) {
        done(new CommandRefused('SW_ERR_SCHEMA', `not a unit id: ${JSON.stringify(unitId)}`));
        return;
      }
      const args = checkValue(COMMANDS[command].args, msg.payload ?? {});
      if (!args.ok) {
        this.status({ fill: 'red', shape: 'ring', text: `invalid args ${args.error.path}` });
        done(new CommandRefused(args.error.code, `${command} args: ${args.error.path} ${args.error.message}`));
        return;
      }
      let c: ReturnType<FleetConfigNode['mqtt']>;
      try {
        c = broker();
      } catch (err) {
        done(err as Error);
        return;
      }
      const id = randomUUID();
      const finish = (err?: Error) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (err) this.status({ fill: 'red', shape: 'ring', text: `${unitId} ${command}: ${err.message.slice(0, 40)}` });
        done(err);
      };
      const timer = setTimeout(
        () => finish(new CommandRefused('UNIT_TIMEOUT', `${unitId} did not answer ${command} within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const answer = (bytes: Buffer, answered: CommandName) => {
        if (answered !== command) return;
        const r = decodeResponse(command, bytes);
        if (!r.ok || r.value.id !== id) return;
        if (r.value.status === 'error') {
          finish(new CommandRefused(r.value.error.code, `${unitId} refused ${command}: ${r.value.error.message}`));
          return;
        }
        this.status({ fill: 'green', shape: 'dot', text: `${unitId} ${command} ok` });
        send({ ...msg, unitId, command, payload: r.value.data });
        finish();
      };
      waiting.set(id, { answer, cancel: () => finish(new Error(`closed before ${unitId} answered ${command}`)) });
      this.status({ fill: 'blue', shape: 'ring', text: `${unitId} ${command}…` });
      const request = encodeRequest(command, { id, args: args.value as never, expires: Date.now() + timeoutMs });
      c.publish(topics.request(unitId, command), Buffer.from(request), { qos: 1 }, (err) => {
        if (err) finish(err);
      });
    });
    this.on('close', (done) => {
      client?.off('message', onMessage);
      for (const w of [...waiting.values()]) w.cancel();
      done();
    });
  } as (this: Node, config: never) => void);
}
