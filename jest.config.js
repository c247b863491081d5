// Jest runs the TypeScript sources as native ES modules, as the engine itself runs
// ("type": "module", import.meta.url in the sources; NestJS 12 and
// @kubernetes/client-node 2 ship ESM only). Jest's ESM loader is built on
// vm.SourceTextModule, which even Node 24 keeps behind --experimental-vm-modules,
// so the npm scripts pass that flag. Compiling the tests to CommonJS instead
// (Node 24 can require() ESM) would test other module semantics than production's.
/** @type {import('ts-jest').TsJestTransformerOptions} */
const tsJest = { useESM: true, tsconfig: '<rootDir>/tsconfig.json' };

/** @type {import('jest').Config['projects'][number]} */
const common = {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Sources import './x.js' (nodenext resolution); map it back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', tsJest] },
};

/** @type {import('jest').Config} */
export default {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  testSequencer: '<rootDir>/test/support/sequencer.mjs',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/sandbox/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
      // One sandbox cluster per test run, shared with the e2e project.
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    {
      ...common,
      // What a candidate does on a cluster whose pods really run (logs, exec,
      // DNS, NetworkPolicy, static pods, etcd backups…): one real-node
      // sandbox per run (sandbox/real), started by its own global setup.
      // `npm run test:realnode` runs its files one at a time: the realism
      // suite stops the scheduler, stops a kubelet, drains a node and
      // restores etcd, which a file running beside it on the same cluster
      // would see (CI saw a late-fix replacement left unscheduled).
      displayName: 'realnode',
      testMatch: ['<rootDir>/test/realnode/**/*.spec.ts'],
      globalSetup: '<rootDir>/test/support/real-setup.mjs',
      globalTeardown: '<rootDir>/test/support/real-teardown.mjs',
    },
    {
      ...common,
      // The console in a real Chromium (Debian's, through playwright-core),
      // against the engine with the built web app, on the sandbox.
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    {
      ...common,
      // The console's logic modules (web/src), without a DOM: compiled with the
      // web app's own settings (bundler resolution, DOM types), not the engine's.
      displayName: 'web',
      testMatch: ['<rootDir>/web/src/**/*.spec.ts'],
      transform: {
        '^.+\\.ts$': ['ts-jest', { ...tsJest, tsconfig: '<rootDir>/web/tsconfig.spec.json' }],
      },
    },
  ],
};
