import { registerHooks } from 'node:module';

/**
 * mqtt-packet traces every field it parses and writes through `debug`, about twenty calls per
 * PUBLISH, and a disabled `debug` logger still gathers its arguments into an array before it
 * looks whether it is enabled: a fifth of everything the broker allocated at QoS 0 (sampling
 * heap profile of gateway/bench/throughput.ts). Unless DEBUG asks for traces, mqtt-packet is
 * handed a logger that does nothing. Imported first by main.ts, before Aedes loads mqtt-packet.
 */
if (!process.env.DEBUG) {
  const off = new URL('./debug-off.cjs', import.meta.url).href;
  registerHooks({
    resolve: (specifier, context, next) =>
      specifier === 'debug' && context.parentURL?.includes('/mqtt-packet/') ? { url: off, shortCircuit: true } : next(specifier, context),
  });
}
