/**
 * Builds the agent into one ESM file for the unit (.data/deploy/agent.mjs, outside the linted and
 * committed tree): no TypeScript is
 * stripped or built on the Pi (type stripping alone costs ~18 MB RSS and start-up time), and only
 * native addons stay outside the bundle (install them next to it with npm on the target arch).
 *   node device/deploy/build.ts
 */
import { build } from 'esbuild';

export const BUNDLE = new URL('../../.data/deploy/agent.mjs', import.meta.url).pathname;
const NATIVE = ['@serialport/bindings-cpp', 'serialport', 'bufferutil', 'utf-8-validate'];

const result = await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // Minified source is ASCII-only and a third the size: V8 keeps the whole script text in the heap,
  // and one non-ASCII character in a comment would make it a two-byte string (4.7 MB instead of ~1 MB).
  minify: true,
  sourcemap: 'linked',
  external: NATIVE,
  // CommonJS dependencies (johnny-five, mqtt's deps) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
console.log(`${BUNDLE}: ${(bytes / 1024).toFixed(0)} KiB`);
