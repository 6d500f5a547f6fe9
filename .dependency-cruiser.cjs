/**
 * Boundaries that `npm run check` enforces. device, gateway and fleet meet only on the wire
 * (through @shouwang/protocol); hardware is for the device and the dev orchestrator only;
 * domain code does no I/O.
 */
const parts = ['device', 'gateway', 'fleet', 'flows'];
module.exports = {
  forbidden: [
    ...parts.map((from) => ({
      name: `${from}-is-independent`,
      comment: `${from} may not import another part; parts meet only through protocol on the wire`,
      severity: 'error',
      from: { path: `^${from}/` },
      to: { path: `^(${parts.filter((p) => p !== from).join('|')})/` },
    })),
    {
      name: 'protocol-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { path: '^(runtime|hardware|device|gateway|fleet|flows)/' },
    },
    {
      name: 'hardware-only-for-device',
      severity: 'error',
      from: { path: '^(gateway|fleet|flows|protocol|runtime)/' },
      to: { path: '^hardware/' },
    },
    {
      name: 'hardware-imports-no-part',
      severity: 'error',
      from: { path: '^hardware/' },
      to: { path: '^(device|gateway|fleet|flows)/' },
    },
    {
      name: 'domain-does-no-io',
      comment: 'domain/ holds pure decisions; I/O lives in drivers/ and services/',
      severity: 'error',
      from: { path: '/src/domain/' },
      to: {
        path: '(/src/(drivers|services)/|^node_modules/(mqtt|aedes|fastify|pino|serialport|johnny-five|better-sqlite3|influx|ioredis)/)',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'domain-no-node-io',
      severity: 'error',
      from: { path: '/src/domain/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|net|http|https|child_process|dgram|tls|node:fs|node:net|node:http|node:https|node:child_process|node:dgram|node:tls)',
      },
    },
    {
      name: 'testkit-only-in-tests',
      comment: 'testkit starts real servers for tests and benches; shipped code never depends on it',
      severity: 'error',
      from: { path: '^(protocol|runtime|hardware|device|gateway|fleet|flows)/src/' },
      to: { path: '^testkit/' },
    },
    {
      name: 'testkit-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^testkit/' },
      to: { path: '^(protocol|runtime|hardware|device|gateway|fleet|flows)/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(node_modules|\\.tools|\\.data)' },
    tsPreCompilationDeps: true,
    preserveSymlinks: false,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
