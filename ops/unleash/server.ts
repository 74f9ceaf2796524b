/**
 * A local Unleash server (npm `unleash-server`) on the local Postgres, for development and tests.
 *
 *   npm run unleash            # http://127.0.0.1:4242, admin UI login admin / unleash4all
 *
 * Environment: UNLEASH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/boxoffice_unleash),
 * UNLEASH_PORT (4242), UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN (dev defaults below; set real ones
 * anywhere but a laptop), UNLEASH_RESET=true drops and recreates the database first.
 */
import pg from 'pg';
import { start } from 'unleash-server';

const databaseUrl = process.env['UNLEASH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_unleash';
const port = Number(process.env['UNLEASH_PORT'] ?? 4242);
export const DEV_ADMIN_TOKEN = '*:*.boxoffice-dev-admin-token';
export const DEV_CLIENT_TOKEN = 'default:development.boxoffice-dev-client-token';
const adminToken = process.env['UNLEASH_ADMIN_TOKEN'] ?? DEV_ADMIN_TOKEN;
const clientToken = process.env['UNLEASH_CLIENT_TOKEN'] ?? DEV_CLIENT_TOKEN;

async function prepareDatabase(): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    if (process.env['UNLEASH_RESET'] === 'true') await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

await prepareDatabase();
const url = new URL(databaseUrl);
const unleash = await start({
  db: {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
    ssl: false,
  },
  server: { port },
  logLevel: process.env['UNLEASH_LOG_LEVEL'] ?? 'warn',
  authentication: {
    initApiTokens: [
      { environment: '*', projects: ['*'], secret: adminToken, type: 'admin', tokenName: 'boxoffice-admin' },
      {
        environment: clientToken.split(':')[1]?.split('.')[0] ?? 'development',
        projects: ['*'],
        secret: clientToken,
        type: 'client',
        tokenName: 'boxoffice-client',
      },
    ],
  },
} as Parameters<typeof start>[0]);
process.stdout.write(`unleash ready on http://127.0.0.1:${port}\n`);
const stop = async () => {
  await unleash.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
