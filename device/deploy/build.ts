/**
 * Builds the agent into one ESM file for the unit (.data/deploy/agent.mjs, outside the linted and
 * committed tree, or the path given): no TypeScript is
 * stripped or built on the Pi (type stripping alone costs ~18 MB RSS and start-up time), and only
 * native addons stay outside the bundle (install them next to it with npm on the target arch).
 *   node device/deploy/build.ts [outfile]
 */
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { nodeCronLocalTime } from './node-cron-local-time.ts';

export const BUNDLE = new URL('../../.data/deploy/agent.mjs', import.meta.url).pathname;
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const NATIVE = ['@serialport/bindings-cpp', 'serialport', 'bufferutil', 'utf-8-validate'];

/**
 * johnny-five's Board requires its REPL module at load, and that requires Node's `repl` (acorn,
 * readline, vm and more): 1.8 MB of the agent's RSS. The agent opens every Board with `repl: false`, so the unit's bundle
 * gets an empty REPL module instead; constructing one fails loudly rather than silently.
 */
const noJohnnyFiveRepl: Plugin = {
  name: 'no-johnny-five-repl',
  setup(b) {
    b.onResolve({ filter: /^\.\/repl$/ }, (args) =>
      /johnny-five[\\/]lib$/.test(args.resolveDir) ? { path: 'johnny-five-repl', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: "module.exports = class Repl { constructor() { throw new Error('johnny-five REPL is not in the unit bundle'); } };",
      loader: 'js',
    }));
  },
};

/**
 * Node builtins through `require()`, not ESM `import`: an ESM import of a builtin evaluates every
 * lazy export on its namespace (node:http's WebSocket loads undici and http2: +15 MB against
 * +4 MB required; node:fs its promises API; node:crypto WebCrypto). Through a CommonJS shim
 * esbuild reads each export at its use, so only what the agent calls gets loaded.
 */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)?$/ }, (args) =>
      isBuiltin(args.path) && args.namespace !== 'builtin' ? { path: args.path, namespace: 'builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path.startsWith('node:') ? args.path : `node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

export interface BundleOptions {
  /** The agent's entry; another checkout's device/src/main.ts when a release is built from history. */
  entry?: string;
  /**
   * `kept` (the default) minifies whitespace and syntax but keeps identifiers: renaming shifts
   * every short name when one module changes, so a patch release's binary delta grows 5–20×
   * (device/bench/ota.ts measures both). `mangled` is esbuild's full minify.
   */
  names?: 'kept' | 'mangled';
  /** The version the agent reports (presence, ota); the release CLI stamps the release's. */
  version?: string;
}

/**
 * One ESM file for Node 24. Minified source is ASCII-only and a fraction of the size: V8 keeps the
 * whole script text in the heap, and one non-ASCII character in a comment would make it a two-byte
 * string (4.7 MB instead of ~1 MB).
 */
const UNIT_FILE = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  logLevel: 'warning',
} as const;

export interface BuiltBundle {
  /** The bundle's size (its source map aside). */
  bytes: number;
  /** Every source file esbuild read, absolute: what a cached bundle is checked against. */
  inputs: string[];
}

/** Builds the agent bundle. */
export async function buildBundle(outfile: string, o: BundleOptions = {}): Promise<BuiltBundle> {
  const result = await build({
    ...UNIT_FILE,
    entryPoints: [o.entry ?? MAIN],
    outfile,
    minifyIdentifiers: o.names === 'mangled',
    sourcemap: 'linked',
    external: NATIVE,
    // CommonJS dependencies (johnny-five, mqtt's deps) call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    // The agent reads its version from this expression (services/device.ts); the bundle carries it as a literal.
    ...(o.version === undefined ? {} : { define: { 'process.env.SHOUWANG_AGENT_VERSION': JSON.stringify(o.version) } }),
    plugins: [builtinsByRequire, noJohnnyFiveRepl, nodeCronLocalTime],
    metafile: true,
  });
  return {
    bytes: Object.entries(result.metafile.outputs).reduce((sum, [path, out]) => sum + (path.endsWith('.map') ? 0 : out.bytes), 0),
    // Metafile paths are relative to the working directory; a namespaced one (`stub:…`) is no file.
    inputs: Object.keys(result.metafile.inputs)
      .filter((p) => !/^[a-z-]+:/.test(p))
      .map((p) => resolve(p)),
  };
}

/** The launcher systemd runs before the agent (boot-select.ts), as one file beside the slots. */
export async function buildLauncher(outfile: string): Promise<void> {
  await build({ ...UNIT_FILE, entryPoints: [new URL('./boot-select.ts', import.meta.url).pathname], outfile });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outfile = process.argv[2] ?? BUNDLE;
  const { bytes } = await buildBundle(outfile);
  await buildLauncher(join(dirname(outfile), 'boot-select.mjs'));
  console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB, launcher boot-select.mjs beside it`);
}
