import { filterMatches } from './filter-match.ts';

/**
 * The QoS a delivery to a client may go out at: the highest granted by the client's
 * subscriptions that match the topic ([MQTT-3.8.4-6] takes the minimum of the message's and the
 * subscription's, [MQTT-3.3.5-1] the highest of overlapping subscriptions). Runs per delivery, so
 * the lowest grant of each client is kept until its subscriptions change: a message at or below
 * it needs no matching at all, which is every message in the usual case.
 */
export class GrantedQos<C extends object> {
  readonly #subscriptions: (client: C) => Record<string, { qos: number }>;
  readonly #floors = new WeakMap<C, number>();

  constructor(subscriptions: (client: C) => Record<string, { qos: number }>) {
    this.#subscriptions = subscriptions;
  }

  /** The lowest QoS the client was granted on any subscription (2 with none). */
  floor(client: C): number {
    let f = this.#floors.get(client);
    if (f === undefined) {
      f = 2;
      for (const s of Object.values(this.#subscriptions(client))) f = Math.min(f, s.qos);
      this.#floors.set(client, f);
    }
    return f;
  }

  /** `qos` lowered to the highest grant among the client's subscriptions matching `topic`. */
  forTopic(client: C, topic: string, qos: number): number {
    let granted = 0;
    for (const [filter, s] of Object.entries(this.#subscriptions(client))) {
      if (s.qos > granted && filterMatches(filter, topic)) granted = s.qos;
    }
    return Math.min(qos, granted);
  }

  changed(client: C): void {
    this.#floors.delete(client);
  }
}
