#!/usr/bin/env node
// The `boxoffice` command. npm runs it with the project's pinned Node (node_modules/.bin/node), which
// strips TypeScript types natively, so the CLI source runs as written.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `boxoffice needs Node 24 (this is ${process.version}); run it through npm (npx boxoffice, npm run …), ` +
      'which uses the Node pinned in devDependencies\n',
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
