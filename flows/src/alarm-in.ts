import { type Alarm, decodeAtTopic, filters, parseTopic, SEVERITIES, type Severity } from '@shouwang/protocol';
import type { FleetConfigNode } from './fleet-node.ts';
import type { Node, NodeAPI } from './red.ts';

interface Config {
  fleet: string;
  /** Least severe alarm passed on ('' passes all). */
  minSeverity?: Severity | '';
}

/**
 * `shouwang alarm in`: every unit's alarm as the unit sent it, from the broker (the gateway lets a
 * service account watch every unit), decoded with the protocol. A payload the protocol refuses is
 * counted on the node status and reported with node.warn, never passed on.
 */
export default function register(RED: NodeAPI): void {
  RED.nodes.registerType('shouwang alarm in', function (this: Node, config: Config) {
    RED.nodes.createNode(this, config);
    const fleet = RED.nodes.getNode(config.fleet) as FleetConfigNode | null;
    if (!fleet) {
      this.status({ fill: 'red', shape: 'ring', text: 'no fleet configured' });
      return;
    }
    const rank = (s: Severity) => SEVERITIES.indexOf(s);
    const floor = config.minSeverity ? rank(config.minSeverity) : SEVERITIES.length;
    const filter = filters.allUplink('alarm');
    let passed = 0;
    let refused = 0;
    const show = () =>
      this.status({ fill: refused ? 'yellow' : 'green', shape: 'dot', text: `${passed} alarms${refused ? `, ${refused} refused` : ''}` });

    let client: ReturnType<FleetConfigNode['mqtt']>;
    try {
      client = fleet.mqtt();
    } catch (err) {
      this.status({ fill: 'red', shape: 'ring', text: (err as Error).message });
      this.error(err);
      return;
    }
    const onConnect = () => {
      client.subscribe(filter, { qos: 1 }, (err, granted) => {
        // The gateway answers a refused filter with 0x80 in the SUBACK, not an error.
        if (err || granted?.some((g) => g.qos === 128)) {
          this.status({ fill: 'red', shape: 'ring', text: 'subscription refused' });
          this.error(err ?? new Error(`broker refused ${filter}`));
        } else show();
      });
    };
    const onMessage = (topic: string, bytes: Buffer) => {
      const t = parseTopic(topic);
      // Other nodes' topics share the connection.
      if (!t.ok || t.value.type !== 'uplink' || t.value.kind !== 'alarm') return;
      const m = decodeAtTopic(t.value, bytes);
      if (!m.ok) {
        refused++;
        show();
        this.warn(`refused alarm on ${topic}: ${m.error.code} at ${m.error.path ?? '/'}: ${m.error.message}`);
        return;
      }
      const alarm = m.value.payload as Alarm;
      const unitId = t.value.unitId;
      if (rank(alarm.severity) > floor) return;
      passed++;
      show();
      this.send({ topic: alarm.kind, unitId, payload: alarm });
    };
    const onOffline = () => this.status({ fill: 'red', shape: 'ring', text: 'broker unreachable' });
    client.on('connect', onConnect);
    client.on('message', onMessage);
    client.on('offline', onOffline);
    if (client.connected) onConnect();
    else this.status({ fill: 'yellow', shape: 'ring', text: 'connecting' });
    this.on('close', (done) => {
      client.off('connect', onConnect);
      client.off('message', onMessage);
      client.off('offline', onOffline);
      if (client.connected) client.unsubscribe(filter, () => done());
      else done();
    });
  } as (this: Node, config: never) => void);
}
