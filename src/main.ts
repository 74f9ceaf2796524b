import { composeApp } from './compose.ts';
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

const app = await composeApp(config);
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
  await app.listen();
} catch (err) {
  app.logger.fatal({ err }, 'start-up failed');
  await app.stop();
  process.exit(1);
}
