// Disruptive suite: stops or flushes shared servers (Redis, RabbitMQ) and restores them; one file at a time.
export default {
  files: ['test/disruptive/**/*.test.ts'],
  extensions: ['ts'],
  workerThreads: false,
  concurrency: 1,
  serial: true,
  timeout: '180s',
  environmentVariables: { NODE_ENV: 'test' },
};
