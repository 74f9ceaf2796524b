/**
 * Module boundaries (design brief §4.1). `npm run lint` fails on any violation;
 * test/architecture/boundaries.test.ts proves each rule rejects a planted violation.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-other-module-internals',
      comment: "A module is reached only through its index.ts: nothing outside src/modules/X may import src/modules/X/internal/**.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/internal/', pathNot: '^src/modules/$1/internal/' },
    },
    {
      name: 'no-internals-from-outside-modules',
      comment: 'Platform, migration tooling, CLI and the composition root use module index.ts files only.',
      severity: 'error',
      from: { pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/internal/' },
    },
    {
      name: 'platform-is-independent',
      comment: 'src/platform has no business logic: it never imports modules, migration tooling, the CLI or the composition root.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/(modules|migration|cli)/|^src/(compose|main)\\.ts$' },
    },
    {
      name: 'modules-do-not-reach-up',
      comment: 'Modules never import the migration tooling, the CLI or the composition root.',
      severity: 'error',
      from: { path: '^src/modules/' },
      to: { path: '^src/(migration|cli)/|^src/(compose|main)\\.ts$' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles (between modules they would mean two modules depend on each other).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
