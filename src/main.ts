import { composeApp } from './compose.ts';
import { clusterRole, joinClusterMetrics, runClusterPrimary, wantsCluster } from './platform/cluster.ts';
import { ConfigError, loadConfig, type Config } from './platform/config.ts';
import { createLogger } from './platform/logger.ts';

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

if (wantsCluster(config)) {
  // WEB_CONCURRENCY > 1: this process only forks, watches and stops the app's processes
  const primary = runClusterPrimary(config, createLogger(config.LOG_LEVEL, { role: 'primary' }));
  process.on('SIGTERM', () => primary.stop('SIGTERM'));
  process.on('SIGINT', () => primary.stop('SIGINT'));
  process.exit(await primary.stopped);
}

const role = clusterRole();
const app = await composeApp(config);
if (role) joinClusterMetrics(app.metrics);
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  app.logger.info({ signal }, 'stopping');
  void app.stop().then((result) => process.exit(result.clean ? 0 : 1));
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
  process.exit(1);
}
