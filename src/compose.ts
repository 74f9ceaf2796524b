import { createServer, type Server } from 'node:http';
import { Authenticator } from './platform/auth/authenticator.ts';
import { TokenVerifier } from './platform/auth/jwt-verifier.ts';
import { loadLegacySecret } from './platform/auth/legacy-secret.ts';
import { loadInternalApiSecret, ServiceCredential } from './platform/auth/service-credential.ts';
import type { Config } from './platform/config.ts';
import { Databases } from './platform/db.ts';
import { createEventBackbone, type EventBackbone } from './platform/events/backbone.ts';
import { createFlags, type Flags } from './platform/flags.ts';
import { Health } from './platform/health.ts';
import { createAdminSession } from './platform/http/admin-session.ts';
import { createHttpApp, type HttpApp } from './platform/http/app.ts';
import { createMetricsServer } from './platform/http/metrics-endpoint.ts';
import { bullBoardMount } from './platform/jobs/bull-board.ts';
import { createJobPlatform, type JobPlatform } from './platform/jobs/job-platform.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { ModuleHost, type BoxofficeModule, type PlatformDeps } from './platform/module.ts';
import { closeRedis, connectRedis, createRedis, type Redis } from './platform/redis.ts';
import { gracefulShutdown, type ShutdownResult } from './platform/shutdown.ts';
import { createAuthModule, createRemoteAuthFacade, type AuthFacade, type AuthModule } from './modules/auth/index.ts';
import { createBookingModule, type BookingModule } from './modules/booking/index.ts';
import { createMovieModule, createRemoteMovieFacade, type MovieFacade, type MovieModule } from './modules/movie/index.ts';
import { createNotificationModule, type NotificationModule } from './modules/notification/index.ts';
import { createPaymentModule } from './modules/payment/index.ts';

export interface BoxofficeApp {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  flags: Flags;
  databases: Databases;
  redis: Redis;
  authenticator: Authenticator;
  host: ModuleHost;
  /** relays and consumers of the hosted modules (ROLE worker|all and some module publishes or consumes) */
  events: EventBackbone | undefined;
  http: HttpApp;
  /** BullMQ queues and workers of the hosted modules (shown at /admin/queues) */
  jobs: JobPlatform;
  /** the notification module when this process hosts it (tests, operators) */
  notification: NotificationModule | undefined;
  /** the auth module when this process hosts it (operator commands use it) */
  auth: AuthModule | undefined;
  /** the movie and booking modules when this process hosts them (CLI seed, tests) */
  movie: MovieModule | undefined;
  booking: BookingModule | undefined;
  facades: { auth: AuthFacade; movie?: MovieFacade };
  server: Server | undefined;
  /** the METRICS_PORT listener, when /metrics is served apart from the app */
  metricsServer: Server | undefined;
  start(): Promise<void>;
  listen(port?: number, host?: string): Promise<Server>;
  stop(): Promise<ShutdownResult>;
}

export interface ComposeOptions {
  logger?: Logger;
}

/** The composition root: config → pools → flags → modules → Koa. No business logic here. */
export async function composeApp(config: Config, options: ComposeOptions = {}): Promise<BoxofficeApp> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { role: config.ROLE });
  const metrics = createMetrics();
  const health = new Health();
  const databases = new Databases(config);
  health.register('postgres', () => databases.ping());
  const redis = createRedis(config.REDIS_URL, logger);
  const jobs = createJobPlatform({ redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger, metrics });
  await connectRedis(redis, logger);
  // Redis is one dependency with two clients: node-redis (app code) and BullMQ's ioredis (jobs)
  health.register('redis', async () => {
    await redis.ping();
    await jobs.ping();
  });
  const flags = createFlags({
    url: config.UNLEASH_URL,
    apiToken: config.UNLEASH_API_TOKEN,
    appName: config.UNLEASH_APP_NAME,
    environment: config.UNLEASH_ENVIRONMENT,
    refreshIntervalMs: config.UNLEASH_REFRESH_INTERVAL_MS,
    overrides: config.FLAGS_BOOTSTRAP,
    logger,
  });


  const facades = {} as { auth: AuthFacade; movie?: MovieFacade };
  const legacySecret = loadLegacySecret({
    secret: config.LEGACY_JWT_SECRET,
    keysDir: config.JWT_KEYS_DIR,
    production: config.NODE_ENV === 'production',
  });
  // how this process's modules call each other's internal API when they run apart (and prove it)
  const serviceCredential = new ServiceCredential({
    secret: loadInternalApiSecret({ secret: config.INTERNAL_API_SECRET, keysDir: config.JWT_KEYS_DIR, production: config.NODE_ENV === 'production' }),
    caller: config.MODULES.join(','),
  });
  const authenticator = new Authenticator({
    local: new TokenVerifier({
      jwks: () => facades.auth.getJwks(),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      legacySecret: () => legacySecret,
      acceptHs256: () => flags.isEnabled('accept_legacy_hs256_tokens'),
      cacheTtlMs: config.JWKS_CACHE_SECONDS * 1000,
    }),
    remote: (token) => facades.auth.verifyToken(token),
    useLocal: () => flags.isEnabled('use_local_jwt'),
    metrics,
  });

  const deps = (module: Parameters<Databases['forModule']>[0]): PlatformDeps => ({
    config,
    logger: logger.child({ module }),
    db: databases.forModule(module),
    databases,
    redis,
    flags,
    metrics,
    authenticator,
    jobs,
  });
  const hosted = new Set(config.MODULES);
  const modules: BoxofficeModule[] = [];
  let auth: AuthModule | undefined;
  let notification: NotificationModule | undefined;
  let movie: MovieModule | undefined;
  let booking: BookingModule | undefined;
  try {
    if (hosted.has('auth')) {
      auth = await createAuthModule(deps('auth'));
      facades.auth = auth.facade;
      modules.push(auth);
    } else {
      const url = config.serviceUrls.auth;
      if (!url) throw new Error('SERVICE_URL_AUTH is required when MODULES does not include auth');
      facades.auth = createRemoteAuthFacade(url);
    }
    if (hosted.has('movie')) {
      movie = createMovieModule(deps('movie'));
      facades.movie = movie.facade;
      modules.push(movie);
    } else if (config.serviceUrls.movie) {
      facades.movie = createRemoteMovieFacade(config.serviceUrls.movie, serviceCredential);
    }
    if (hosted.has('booking')) {
      if (!facades.movie) throw new Error('SERVICE_URL_MOVIE is required when MODULES includes booking but not movie');
      booking = createBookingModule({ ...deps('booking'), movie: facades.movie });
      modules.push(booking);
    }
    if (hosted.has('payment')) modules.push(createPaymentModule(deps('payment')));
    if (hosted.has('notification')) {
      notification = createNotificationModule(deps('notification'));
      modules.push(notification);
    }
  } catch (err) {
    // a module that cannot be built (e.g. no signing keys in production) must not leave connections open
    await Promise.allSettled([flags.close(), jobs.close(), closeRedis(redis), databases.closeAll()]);
    throw err;
  }

  const events = createEventBackbone({
    config,
    logger,
    metrics,
    flags,
    health,
    modules: modules.map((m) => ({ name: m.name, db: databases.forModule(m.name), outbox: m.outbox, consumer: m.consumer })),
  });
  const host = new ModuleHost(modules, logger, events?.workers);
  host.registerHealth(health);
  const admin = createAdminSession({ authenticator, login: (credentials, meta) => facades.auth.login(credentials, meta), logger, home: '/admin/queues' });
  const http = createHttpApp({
    logger,
    metrics,
    health,
    bodyLimit: config.BODY_LIMIT,
    trustProxy: config.TRUST_PROXY,
    routers: config.ROLE === 'worker' ? [] : host.routers(),
    // admin pages: a login that puts an admin's access token in a cookie, and bull-board behind it (ADR 0042)
    mounts: config.ROLE === 'worker' ? [] : [admin.pages(), bullBoardMount({ basePath: '/admin/queues', queues: host.queues(), guard: admin.requireAdmin() })],
    formPaths: admin.formPaths,
    metricsEndpoint: { onAppPort: config.METRICS_PORT === undefined, token: config.METRICS_TOKEN },
    internalGuard: serviceCredential.guard(),
  });
  const metricsServer = config.METRICS_PORT === undefined ? undefined : createMetricsServer({ metrics, token: config.METRICS_TOKEN, logger });

  const app: BoxofficeApp = {
    config,
    logger,
    metrics,
    health,
    flags,
    databases,
    redis,
    authenticator,
    host,
    events,
    http,
    jobs,
    notification,
    auth,
    movie,
    booking,
    facades,
    server: undefined,
    metricsServer,
    async start() {
      await host.start(config.ROLE !== 'web');
      health.markStarted();
      logger.info({ modules: host.names, role: config.ROLE, flags: flags.status().source }, 'boxoffice started');
    },
    async listen(port = config.PORT, hostname = config.HOST) {
      if (metricsServer && !metricsServer.listening) await listenOn(metricsServer, config.METRICS_PORT!, hostname, logger, 'metrics listening');
      const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, http.koa.callback());
      app.server = server;
      return listenOn(server, port, hostname, logger, 'listening');
    },
    stop() {
      return gracefulShutdown({
        ...(app.server ? { server: app.server } : {}),
        health,
        inFlight: http.inFlight,
        timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
        logger,
        hooks: [
          ...(metricsServer ? [{ name: 'metrics', run: () => new Promise<void>((resolve) => (metricsServer.close(() => resolve()), metricsServer.closeAllConnections())) }] : []),
          { name: 'modules', run: () => host.stop() },
          { name: 'jobs', run: () => jobs.close() },
          { name: 'flags', run: () => flags.close() },
          { name: 'redis', run: () => closeRedis(redis) },
          { name: 'postgres', run: () => databases.closeAll() },
        ],
      });
    },
  };
  return app;
}

function listenOn(server: Server, port: number, hostname: string, logger: Logger, message: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      logger.info({ address: server.address() }, message);
      resolve(server);
    });
  });
}
