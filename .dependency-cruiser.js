/**
 * Layer rules (docs/style.md "Layers"), checked by test/unit/architecture/layers.spec.ts on every test run.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain imports only src/domain: no node built-ins, vendor packages or outer layers',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: '^src/domain' },
    },
    {
      name: 'consensus-is-generic',
      comment: 'the Raft core and the metadata domain do not know each other',
      severity: 'error',
      from: { path: '^src/domain/consensus' },
      to: { path: '^src/domain', pathNot: '^src/domain/(consensus|shared)' },
    },
    {
      name: 'application-uses-ports-only',
      comment: 'src/application may import the domain, rxjs, inversify and itself; no adapters, infrastructure, node I/O or transports',
      severity: 'error',
      from: { path: '^src/application' },
      to: {
        pathNot: ['^src/application', '^src/domain', 'node_modules/(rxjs|inversify|@inversifyjs)/'],
      },
    },
    {
      name: 'adapters-not-infrastructure',
      comment: 'adapters never import the composition root',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/infrastructure' },
    },
    {
      name: 'adapter-families-apart',
      comment: 'one adapter family does not import another (gRPC must not import NATS); shared codecs are allowed',
      severity: 'error',
      from: { path: '^src/adapters/(inbound|outbound)/([^/]+)' },
      to: { path: '^src/adapters/(inbound|outbound)/', pathNot: ['^src/adapters/$1/$2'] },
    },
    {
      name: 'infrastructure-only-from-root',
      comment: 'nothing in src outside src/infrastructure imports it',
      severity: 'error',
      from: { path: '^src/(domain|application|adapters)' },
      to: { path: '^src/infrastructure' },
    },
    {
      name: 'protocol-is-the-contract',
      comment: 'src/protocol (the API contract shared by server and client) imports only itself, domain/shared, Node and vendor packages',
      severity: 'error',
      from: { path: '^src/protocol' },
      to: { path: '^src/', pathNot: ['^src/protocol', '^src/domain/shared'] },
    },
    {
      name: 'client-speaks-protocol',
      comment: 'src/client imports only itself and src/protocol from this repository: never the server',
      severity: 'error',
      from: { path: '^src/client' },
      to: { path: '^src/', pathNot: ['^src/client', '^src/protocol'] },
    },
    {
      name: 'server-not-client',
      comment: 'the server does not depend on the client (the admin CLI in infrastructure may)',
      severity: 'error',
      from: { path: '^src/(domain|application|adapters|protocol)' },
      to: { path: '^src/client' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
