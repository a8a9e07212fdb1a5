// The fault-injection suite's long tier (docs/reliability.md): `npm run test:faults` runs the PR-tier
// scenarios (test/integration/faults) with more cycles and the scenarios that only run here.
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
module.exports = {
  transform,
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  displayName: 'faults',
  testMatch: ['<rootDir>/test/faults/**/*.faults.spec.ts', '<rootDir>/test/integration/faults/**/*.int.spec.ts'],
  // Each test names its own timeout; a long default here kept jest from exiting after the run.
  testTimeout: 60000,
};
