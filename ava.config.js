// Main suite: files run in parallel worker processes; each works in its own database and Redis prefix.
export default {
  files: ['test/**/*.test.ts', '!test/disruptive/**', '!test/fixtures/**'],
  extensions: ['ts'],
  workerThreads: false,
  concurrency: 2,
  timeout: '120s',
  environmentVariables: { NODE_ENV: 'test' },
};
