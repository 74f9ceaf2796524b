import { createServer, type Server } from 'node:http';
import { Authenticator } from './platform/auth/authenticator.ts';
import { TokenVerifier } from './platform/auth/jwt-verifier.ts';
import { loadLegacySecret } from './platform/auth/legacy-secret.ts';
import { loadInternalApiSecret, ServiceCredential } from './platform/auth/service-credential.ts';
import { MODULE_NAMES, roleFor, type Config, type ModuleName } from './platform/config.ts';
import { Databases } from './platform/db.ts';
import { createEventBackbone, type EventBackbone } from './platform/events/backbone.ts';
import { createPostgresBackbone } from './platform/events/postgres-backbone.ts';
import { createFlags, type Flags } from './platform/flags.ts';
import { Health } from './platform/health.ts';
import { createAdminSession } from './platform/http/admin-session.ts';
import { createHttpApp, type HttpApp } from './platform/http/app.ts';
import { createMetricsServer } from './platform/http/metrics-endpoint.ts';
import { bullBoardMount } from './platform/jobs/bull-board.ts';
import { createJobPlatform, type JobPlatform } from './platform/jobs/job-platform.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { JOBS_ROLE } from './platform/migrate.ts';
import { ModuleHost, type BoxofficeModule, type PlatformDeps } from './platform/module.ts';
import type { Redis } from './platform/redis.ts';
import { RedisConnections } from './platform/redis-connections.ts';
import { createInternalClients } from './platform/http/internal-clients.ts';
import { gracefulShutdown, type ShutdownResult } from './platform/shutdown.ts';
import { setTracingGate } from './platform/tracing/trace-context.ts';
import { migrationDashboardMount } from './migration/dashboard/dashboard-mount.ts';
import { migrationDashboardFor } from './migration/dashboard/dashboard-service.ts';
import { createRouteProxy } from './migration/extraction/route-proxy.ts';
import { aboutRouter, serviceProbe } from './migration/extraction/service-probe.ts';
import { createStrangler, type Strangler } from './migration/strangler.ts';
import { MissingFacadeError, MODULE_REGISTRY, type FacadeOf, type Facades, type ModuleEntry, type ModuleOf } from './module-registry.ts';
import type { AuthFacade, AuthModule } from './modules/auth/index.ts';
import type { BookingModule } from './modules/booking/index.ts';
import type { MovieModule } from './modules/movie/index.ts';
import type { NotificationModule } from './modules/notification/index.ts';
import type { PaymentModule } from './modules/payment/index.ts';

export interface BoxofficeApp {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  flags: Flags;
  databases: Databases;
  /** REDIS_URL's client; none with BACKEND=postgres */
  redis: Redis | undefined;
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
  /** the movie, booking and payment modules when this process hosts them (CLI seed, tests) */
  movie: MovieModule | undefined;
  booking: BookingModule | undefined;
  payment: PaymentModule | undefined;
  facades: Facades;
  /** the strangler machinery of this process (routing store, dual-write leases, shadow reads) */
  strangler: Strangler;
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
  const databases = new Databases(config, logger);
  health.register('postgres', () => databases.ping());
  // BACKEND=postgres: no Redis at all, jobs in the `bullmq` schema (ADR 0078). Otherwise REDIS_URL, and
  // <MODULE>_REDIS_URL for a hosted module with a Redis of its own
  const redises = config.backend === 'full' ? new RedisConnections({ config, logger, metrics }) : undefined;
  const redis = redises?.shared.redis;
  const jobs = redises?.shared.jobs
    ?? createJobPlatform({ store: { kind: 'postgres', url: config.DATABASE_URL, role: roleFor(config, JOBS_ROLE), poolMax: config.DB_POOL_MAX }, logger, metrics });
  health.describeProfile({ backend: config.backend, events: config.EVENTS_TRANSPORT, jobs: jobs.storeKind });
  if (redises) {
    await redises.connect();
    // Redis is one dependency with two clients each: node-redis (app code) and BullMQ's ioredis (jobs). Not
    // critical: seat holds, the catalog cache and login throttling fall back without it (ADR 0076)
    health.register('redis', () => redises.ping(), { critical: false });
  }
  const closeJobs = () => (redises ? redises.closeJobs() : jobs.close());
  const closeRedis = async () => redises?.closeClients();
  const flags = createFlags({
    url: config.UNLEASH_URL,
    apiToken: config.UNLEASH_API_TOKEN,
    appName: config.UNLEASH_APP_NAME,
    environment: config.UNLEASH_ENVIRONMENT,
    refreshIntervalMs: config.UNLEASH_REFRESH_INTERVAL_MS,
    overrides: config.FLAGS_BOOTSTRAP,
    logger,
  });
  // the sampler asks this per request or message; without a configured SDK nothing asks (ADR 0060)
  setTracingGate({ enabled: () => flags.isEnabled('enable_tracing'), mayBeEnabled: () => flags.mayBeEnabled('enable_tracing') });

  const legacySecret = loadLegacySecret({
    secret: config.LEGACY_JWT_SECRET,
    keysDir: config.JWT_KEYS_DIR,
    production: config.NODE_ENV === 'production',
  });
  const facades: Facades = {};
  const authFacade = (): AuthFacade => facades.auth!;
  // how this process's modules call each other's internal API when they run apart (and prove it)
  const serviceCredential = new ServiceCredential({
    secret: loadInternalApiSecret({ secret: config.INTERNAL_API_SECRET, keysDir: config.JWT_KEYS_DIR, production: config.NODE_ENV === 'production' }),
    caller: config.MODULES.join(','),
  });
  const clients = createInternalClients({
    credential: serviceCredential,
    metrics,
    health,
    settings: {
      timeoutMs: config.INTERNAL_HTTP_TIMEOUT_MS,
      retries: config.INTERNAL_HTTP_RETRIES,
      circuitThreshold: config.INTERNAL_CIRCUIT_THRESHOLD,
      halfOpenAfterMs: config.INTERNAL_CIRCUIT_HALF_OPEN_MS,
    },
  });
  const authenticator = new Authenticator({
    local: new TokenVerifier({
      jwks: () => authFacade().getJwks(),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      legacySecret: () => legacySecret,
      acceptHs256: () => flags.isEnabled('accept_legacy_hs256_tokens'),
      cacheTtlMs: config.JWKS_CACHE_SECONDS * 1000,
      unknownKidRefetchMs: config.JWKS_REFETCH_COOLDOWN_SECONDS * 1000,
    }),
    remote: (token) => authFacade().verifyToken(token),
    useLocal: () => flags.isEnabled('use_local_jwt'),
    metrics,
  });

  const hosted = MODULE_NAMES.filter((m) => config.MODULES.includes(m));
  const strangler = createStrangler({ config, databases, flags, metrics, logger, jobs, mappings: hosted.map((m) => MODULE_REGISTRY[m].mapping(config)) });
  const deps = (module: ModuleName): PlatformDeps => ({
    config,
    logger: logger.child({ module }),
    db: databases.forModule(module),
    databases,
    // its own Redis when <MODULE>_REDIS_URL says so (holds, caches, throttles and its queues)
    redis: redises?.forModule(module).redis,
    flags,
    metrics,
    authenticator,
    jobs: redises?.forModule(module).jobs ?? jobs,
    stores: strangler.router,
  });
  const modules: BoxofficeModule[] = [];
  const hostedModules: Partial<ModuleOf> = {};
  async function provide<N extends ModuleName>(name: N): Promise<void> {
    const entry: ModuleEntry<N> = MODULE_REGISTRY[name];
    if (config.MODULES.includes(name)) {
      const module = await entry.create(deps(name), facades);
      hostedModules[name] = module;
      facades[name] = module.facade as FacadeOf[N];
      modules.push(module);
    } else if (entry.remote && config.serviceUrls[name]) {
      facades[name] = entry.remote(clients.for(name, config.serviceUrls[name]));
    }
  }
  try {
    for (const name of MODULE_NAMES) await provide(name);
    if (!facades.auth) throw new MissingFacadeError('SERVICE_URL_AUTH is required when MODULES does not include auth');
  } catch (err) {
    // a module that cannot be built (e.g. no signing keys in production) must not leave connections open
    await Promise.allSettled([flags.close(), closeJobs().then(closeRedis), databases.closeAll()]);
    throw err;
  }

  // EVENTS_TRANSPORT=postgres: no broker, the outboxes feed the consumers' event_deliveries tables (ADR 0077)
  const events = (config.EVENTS_TRANSPORT === 'postgres' ? createPostgresBackbone : createEventBackbone)({
    config,
    logger,
    metrics,
    flags,
    health,
    modules: modules.map((m) => ({ name: m.name, db: databases.forModule(m.name), outbox: m.outbox, consumer: m.consumer })),
  });
  const host = new ModuleHost(modules, logger, [...strangler.workers, ...(events?.workers ?? [])]);
  host.registerHealth(health);
  // EXTRACTED: modules with a deployment of their own (SERVICE_URL_<MODULE>) get their public routes sent there
  const routeProxy = createRouteProxy({
    targets: MODULE_NAMES.flatMap((m) => {
      const serviceUrl = config.serviceUrls[m];
      return serviceUrl ? [{ module: m, prefixes: MODULE_REGISTRY[m].publicPaths, serviceUrl }] : [];
    }),
    flags,
    metrics,
    logger,
    timeoutMs: config.ROUTE_PROXY_TIMEOUT_MS,
  });
  const admin = createAdminSession({ authenticator, login: (credentials, meta) => authFacade().login(credentials, meta), logger, home: '/admin/queues' });
  const http = createHttpApp({
    logger,
    metrics,
    health,
    bodyLimit: config.BODY_LIMIT,
    trustProxy: config.TRUST_PROXY,
    routers: config.ROLE === 'worker' ? [] : [...host.routers(), aboutRouter({ modules: host.names, databases })],
    // admin pages: a login that puts an admin's access token in a cookie; bull-board and the migration dashboard behind it (ADR 0042)
    mounts: config.ROLE === 'worker' ? [] : [
      admin.pages(),
      bullBoardMount({ basePath: '/admin/queues', queues: [...host.queues(), ...strangler.queues], guard: admin.requireAdmin() }),
      // every module's phase, guards, reconciliation runs and the cutover log (ADR 0052); every module, hosted here or not
      migrationDashboardMount({
        service: migrationDashboardFor({ config, databases, flags, mappings: MODULE_NAMES.map((m) => MODULE_REGISTRY[m].mapping(config)), services: serviceProbe({ serviceUrls: config.serviceUrls, credential: serviceCredential }) }),
        guard: admin.requireAdmin(),
      }),
    ],
    formPaths: admin.formPaths,
    metricsEndpoint: { onAppPort: config.METRICS_PORT === undefined, token: config.METRICS_TOKEN },
    internalGuard: serviceCredential.guard(),
    routeProxy: routeProxy.middleware,
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
    notification: hostedModules.notification,
    auth: hostedModules.auth,
    movie: hostedModules.movie,
    booking: hostedModules.booking,
    payment: hostedModules.payment,
    facades,
    strangler,
    server: undefined,
    metricsServer,
    async start() {
      for (const service of strangler.services) await service.start();
      const stale = await strangler.staleSyncObjects().catch(() => []);
      if (stale.length > 0) logger.error({ stale }, 'dual-write functions and triggers are missing or outdated: run `boxoffice migrate`');
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
          { name: 'route proxy', run: () => routeProxy.close() },
          { name: 'strangler', run: async () => void (await Promise.allSettled(strangler.services.map((s) => s.stop()))) },
          { name: 'jobs', run: closeJobs },
          { name: 'flags', run: () => flags.close() },
          { name: 'redis', run: closeRedis },
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
