import type { Node } from './red.ts';

/**
 * Runs `once` every `intervalMs` and on demand, never two at a time (a slow fleet or endpoint is not
 * asked again before it answered). A throw shows on the node's status and goes to node.error, so a
 * Catch node sees it; the next tick tries again.
 */
export function poller(node: Node, intervalMs: number, once: () => Promise<void>): { poll(): Promise<void>; stop(): void } {
  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      await once();
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
      node.error(err);
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  return { poll, stop: () => clearInterval(timer) };
}
