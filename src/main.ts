import type { Config } from './platform/config.ts';
import type { EmbeddedPostgres } from './platform/embedded-postgres.ts';
import { startTracing } from './platform/tracing/start-tracing.ts';

// The tracing SDK (when configured) must be in place before pg, ioredis and http are loaded: everything
// else is imported after it (ADR 0060).
const tracing = await startTracing();
const { composeApp } = await import('./compose.ts');
const { clusterRole, joinClusterMetrics, runClusterPrimary, wantsCluster } = await import('./platform/cluster.ts');
const { ConfigError, loadConfig } = await import('./platform/config.ts');
const { dataDirFor, redactUrl, startEmbeddedPostgres, wantsEmbeddedPostgres } = await import('./platform/embedded-postgres.ts');
const { createLogger } = await import('./platform/logger.ts');
const { setupDatabase } = await import('./setup-database.ts');

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  const log = createLogger('fatal');
  log.fatal({ problems: err.problems }, err.message);
  process.exitCode = 1;
  process.exit(1);
}

// no DATABASE_URL outside production: the embedded PostgreSQL under .data/pg, migrated here (ADR 0075)
let embedded: EmbeddedPostgres | undefined;
if (wantsEmbeddedPostgres(process.env)) {
  const log = createLogger(config.LOG_LEVEL, { role: config.ROLE });
  try {
    embedded = await startEmbeddedPostgres({ dataDir: dataDirFor(process.env), logger: log });
    config = { ...config, DATABASE_URL: embedded.url };
    await setupDatabase(config, log);
  } catch (err) {
    log.fatal({ err }, 'the embedded PostgreSQL could not be started; set DATABASE_URL to a server of your own');
    await embedded?.stop();
    process.exit(1);
  }
  log.info(
    { data: embedded.dataDir, port: embedded.port, server_log: embedded.logFile, url: redactUrl(embedded.url) },
    `embedded PostgreSQL: data in ${embedded.dataDir} (kept between runs; delete it to start afresh). ` +
      'To use a server of your own, set DATABASE_URL=postgres://user:password@host:5432/boxoffice and run `npm run migrate`',
  );
}
const stopEmbedded = async () => {
  await embedded?.stop().catch(() => undefined);
};

if (wantsCluster(config)) {
  // WEB_CONCURRENCY > 1: this process only forks, watches and stops the app's processes (ADR 0054);
  // they inherit the database this process found or started
  const primary = runClusterPrimary(config, createLogger(config.LOG_LEVEL, { role: 'primary' }));
  process.on('SIGTERM', () => primary.stop('SIGTERM'));
  process.on('SIGINT', () => primary.stop('SIGINT'));
  const code = await primary.stopped;
  await stopEmbedded();
  process.exit(code);
}

const role = clusterRole();
const app = await composeApp(config);
if (role) joinClusterMetrics(app.metrics);
if (tracing.configured) app.logger.info({ service: tracing.serviceName }, 'tracing configured; spans are recorded while enable_tracing is on');
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  app.logger.info({ signal }, 'stopping');
  void app.stop().then(async (result) => {
    await tracing.shutdown();
    await stopEmbedded();
    process.exit(result.clean ? 0 : 1);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('unhandledRejection', (reason) => app.logger.error({ err: reason }, 'unhandled promise rejection'));

try {
  await app.start();
  // the cluster's worker process serves no port: the web processes share it
  if (role !== 'worker') await app.listen();
} catch (err) {
  app.logger.fatal({ err }, 'start-up failed');
  await app.stop();
  await tracing.shutdown();
  await stopEmbedded();
  process.exit(1);
}
