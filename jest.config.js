// Jest runs TypeScript as native ES modules: @swc/jest strips types and keeps `import`,
// and `node --experimental-vm-modules` (see the `test` script) lets ESM-only packages
// (jose 6, oauth4webapi, openid-client 6) load unmodified. This is the project's one way.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  // Sources import './x.js' (NodeNext style); under jest resolve that to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
};
