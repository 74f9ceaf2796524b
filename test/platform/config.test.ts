import test from 'ava';
import { ConfigError, loadConfig, MODULE_NAMES } from '../../src/platform/config.ts';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => p.variable);
  }
};

test('defaults: port 8000, all modules, role all, stores routed by phase', (t) => {
  const c = loadConfig({});
  t.is(c.PORT, 8000);
  t.deepEqual(c.MODULES, [...MODULE_NAMES]);
  t.is(c.ROLE, 'all');
  t.deepEqual(Object.values(c.stores), ['routed', 'routed', 'routed', 'routed', 'routed']);
  t.is(c.UNLEASH_URL, undefined);
});

test('each bad value is reported under its variable name', (t) => {
  t.deepEqual(problemsOf({ PORT: 'eighty' }), ['PORT']);
  t.deepEqual(problemsOf({ PORT: '70000' }), ['PORT']);
  t.deepEqual(problemsOf({ DATABASE_URL: 'mysql://x/y' }), ['DATABASE_URL']);
  t.deepEqual(problemsOf({ REDIS_URL: 'not a url' }), ['REDIS_URL']);
  t.deepEqual(problemsOf({ AMQP_URL: 'http://x' }), ['AMQP_URL']);
  t.deepEqual(problemsOf({ ROLE: 'boss' }), ['ROLE']);
  t.deepEqual(problemsOf({ LOG_LEVEL: 'loud' }), ['LOG_LEVEL']);
  t.deepEqual(problemsOf({ STORE_BOOKING: 'mongo' }), ['STORE_BOOKING']);
  t.deepEqual(problemsOf({ FLAGS_BOOTSTRAP: 'use_local_jwt' }), ['FLAGS_BOOTSTRAP']);
  t.deepEqual(problemsOf({ LEGACY_JWT_SECRET: 'short' }), ['LEGACY_JWT_SECRET']);
  t.deepEqual(problemsOf({ PORT: 'x', ROLE: 'y' }).sort(), ['PORT', 'ROLE']);
  t.deepEqual(problemsOf({ UNLEASH_URL: 'http://unleash:4242/api' }), ['UNLEASH_API_TOKEN']);
  // the abuse controls of issue 8
  t.deepEqual(problemsOf({ INTERNAL_API_SECRET: 'too-short' }), ['INTERNAL_API_SECRET']);
  t.deepEqual(problemsOf({ REGISTER_MAX_PER_IP: '-1' }), ['REGISTER_MAX_PER_IP']);
  t.deepEqual(problemsOf({ BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '0' }), ['BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME']);
  t.deepEqual(problemsOf({ BOOKING_MAX_PENDING_BOOKINGS: 'many' }), ['BOOKING_MAX_PENDING_BOOKINGS']);
  t.deepEqual(problemsOf({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '0' }), ['LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS']);
  t.deepEqual(problemsOf({ LOGIN_KNOWN_ADDRESS_DAYS: '400' }), ['LOGIN_KNOWN_ADDRESS_DAYS']);
  t.deepEqual(problemsOf({ METRICS_PORT: '70000' }), ['METRICS_PORT']);
  t.deepEqual(problemsOf({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' }), ['LOGIN_MAX_FAILURES_PER_ACCOUNT'], 'not above the pair budget (5)');
});

test('abuse-control defaults (issue 8)', (t) => {
  const c = loadConfig({});
  t.like(c, {
    BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: 10, BOOKING_MAX_PENDING_BOOKINGS: 5, REGISTER_MAX_PER_IP: 10, REGISTER_WINDOW_SECONDS: 3600,
    LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: 5, LOGIN_MAX_FAILURES_PER_IP: 50, LOGIN_MAX_FAILURES_PER_ACCOUNT: 10,
    LOGIN_ACCOUNT_MAX_DELAY_SECONDS: 300, LOGIN_KNOWN_ADDRESS_DAYS: 30,
  });
  t.is(c.METRICS_TOKEN, undefined);
  t.is(c.INTERNAL_API_SECRET, undefined);
});

test('MODULES: a list hosts a subset in dependency order; unknown names are rejected', (t) => {
  t.deepEqual(loadConfig({ MODULES: 'booking, auth' }).MODULES, ['auth', 'booking']);
  t.deepEqual(loadConfig({ MODULES: 'all' }).MODULES, [...MODULE_NAMES]);
  const err = t.throws(() => loadConfig({ MODULES: 'booking,tickets' }), { instanceOf: ConfigError });
  t.regex(err.message, /MODULES: unknown module\(s\) tickets/);
});

test('empty variables take the default, like unset ones', (t) => {
  t.is(loadConfig({ PORT: '' }).PORT, 8000);
});

test('BACKEND=auto: Postgres only when nothing points at Redis or RabbitMQ and every module is here; never under NODE_ENV=test', (t) => {
  const dev = { NODE_ENV: 'development' };
  t.like(loadConfig(dev), { backend: 'postgres', EVENTS_TRANSPORT: 'postgres' });
  t.like(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db:5432/boxoffice' }), { backend: 'postgres' });
  t.like(loadConfig({ NODE_ENV: 'test' }), { backend: 'full', EVENTS_TRANSPORT: 'amqp' }, 'tests expect the local servers');
  t.like(loadConfig({ ...dev, REDIS_URL: 'redis://cache:6379' }), { backend: 'full', EVENTS_TRANSPORT: 'amqp' });
  t.like(loadConfig({ ...dev, AMQP_URL: 'amqp://mq:5672' }), { backend: 'full' });
  t.like(loadConfig({ ...dev, BOOKING_REDIS_URL: 'redis://cache:6379' }), { backend: 'full' });
  t.like(loadConfig({ ...dev, EVENTS_TRANSPORT: 'postgres' }), { backend: 'full', EVENTS_TRANSPORT: 'postgres' }, 'events in Postgres, Redis still used');
  t.like(loadConfig({ ...dev, MODULES: 'booking', SERVICE_URL_AUTH: 'http://auth:8000' }), { backend: 'full' }, 'a split-out module needs the broker');
  t.like(loadConfig({ ...dev, BACKEND: 'full' }), { backend: 'full', EVENTS_TRANSPORT: 'amqp' });
});

test('BACKEND=postgres refuses what it would ignore, naming each variable', (t) => {
  const pgOnly = { NODE_ENV: 'test', BACKEND: 'postgres' };
  t.like(loadConfig(pgOnly), { backend: 'postgres', EVENTS_TRANSPORT: 'postgres' });
  t.deepEqual(problemsOf({ ...pgOnly, REDIS_URL: 'redis://cache:6379', AMQP_URL: 'amqp://mq:5672' }), ['REDIS_URL', 'AMQP_URL']);
  t.deepEqual(problemsOf({ ...pgOnly, PAYMENT_REDIS_URL: 'redis://cache:6379' }), ['PAYMENT_REDIS_URL']);
  t.deepEqual(problemsOf({ ...pgOnly, REDIS_SENTINELS: 'a:26379' }), ['REDIS_SENTINELS']);
  t.deepEqual(problemsOf({ ...pgOnly, EVENTS_TRANSPORT: 'amqp' }), ['EVENTS_TRANSPORT']);
  const err = t.throws(() => loadConfig({ ...pgOnly, MODULES: 'auth,booking' }), { instanceOf: ConfigError });
  t.regex(err.message, /MODULES: must be every module \(or unset\) when BACKEND=postgres.*movie, payment, notification.*BACKEND=full/);
  t.deepEqual(problemsOf({ ...pgOnly, BACKEND: 'redis' }), ['BACKEND']);
});
