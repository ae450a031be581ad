/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // The demo page's native ES modules, for the unit tests of its pure modules.
    '^.+/public/js/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs' }, isolatedModules: true },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  // A BullMQ Worker closed while its Redis is unreachable (the Redis-outage tests) keeps its
  // stall-check and lock-extension timers armed; the server's shutdown exits the process after
  // closing, jest has to be told. Every test's own resources are still closed in afterAll.
  forceExit: true,
};
