/** The part of node-red-node-test-helper (which ships no types) these tests use. */
declare module 'node-red-node-test-helper' {
  interface TestNode {
    on(event: string, fn: (arg: never) => void): void;
    once(event: string, fn: (arg: never) => void): void;
    receive(msg: object): void;
  }
  const helper: {
    init(runtimePath: string, settings?: object): void;
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
    load(nodes: unknown[], flow: object[], credentials?: Record<string, Record<string, string>>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
  };
  export default helper;
}
