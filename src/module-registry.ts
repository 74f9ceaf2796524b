import type { Config, ModuleName } from './platform/config.ts';
import type { InternalClient } from './platform/http/internal-client.ts';
import { MODULE_NAMES } from './platform/config.ts';
import type { ModuleMapping } from './platform/mapping/aggregate-mapping.ts';
import type { PlatformDeps } from './platform/module.ts';
import { createAuthMapping, createAuthModule, createRemoteAuthFacade, type AuthFacade, type AuthModule } from './modules/auth/index.ts';
import { createBookingMapping, createBookingModule, createRemoteBookingFacade, type BookingFacade, type BookingModule } from './modules/booking/index.ts';
import { createMovieMapping, createMovieModule, createRemoteMovieFacade, type MovieFacade, type MovieModule } from './modules/movie/index.ts';
import { createNotificationMapping, createNotificationModule, type NotificationFacade, type NotificationModule } from './modules/notification/index.ts';
import { createPaymentMapping, createPaymentModule, createRemotePaymentFacade, type PaymentFacade, type PaymentModule } from './modules/payment/index.ts';

/** What each module offers others, and what it is when hosted. */
export interface FacadeOf {
  auth: AuthFacade;
  movie: MovieFacade;
  booking: BookingFacade;
  payment: PaymentFacade;
  notification: NotificationFacade;
}
export interface ModuleOf {
  auth: AuthModule;
  movie: MovieModule;
  booking: BookingModule;
  payment: PaymentModule;
  notification: NotificationModule;
}

/** The facades this process can reach: hosted modules' own, or remote adapters (SERVICE_URL_<MODULE>). */
export type Facades = Partial<FacadeOf>;

export interface ModuleEntry<N extends ModuleName> {
  name: N;
  /**
   * the path prefixes of its public API: what the strangler's routing step sends to the module's own
   * deployment (test/architecture/extraction-paths.test.ts proves they cover every public route)
   */
  publicPaths: readonly string[];
  /** where its aggregates live on each side (the strangler machinery's one declaration) */
  mapping(config: Config): ModuleMapping;
  /** build it; the facades of modules before it in MODULE_NAMES order are in `facades` */
  create(deps: PlatformDeps, facades: Facades): ModuleOf[N] | Promise<ModuleOf[N]>;
  /**
   * its facade over HTTP (SERVICE_URL_<MODULE>), for a process that does not host it: through this process's
   * internal client for the module (service credential, deadline, retries of reads, circuit breaker)
   */
  remote?(client: InternalClient): FacadeOf[N];
}

export class MissingFacadeError extends Error {}

function required<T>(facade: T | undefined, message: string): T {
  if (!facade) throw new MissingFacadeError(message);
  return facade;
}

/**
 * Every module, in dependency order (which is also the documented cutover order). The composition root
 * and the CLI walk this list; adding a module is one entry here, not an `if` in either.
 */
export const MODULE_REGISTRY: { [N in ModuleName]: ModuleEntry<N> } = {
  auth: {
    name: 'auth',
    publicPaths: ['/api/v1/auth', '/.well-known/jwks.json'],
    mapping: () => createAuthMapping(),
    create: (deps) => createAuthModule(deps),
    remote: (client) => createRemoteAuthFacade(client),
  },
  movie: {
    name: 'movie',
    publicPaths: ['/api/v1/movies', '/api/v1/theaters', '/api/v1/showtimes'],
    mapping: (config) => createMovieMapping({ legacySchema: config.LEGACY_SCHEMA, defaultCurrency: config.DEFAULT_CURRENCY }),
    create: (deps) => createMovieModule(deps),
    remote: (client) => createRemoteMovieFacade(client),
  },
  booking: {
    name: 'booking',
    publicPaths: ['/api/v1/bookings'],
    mapping: (config) => createBookingMapping({ legacySchema: config.LEGACY_SCHEMA, currency: config.DEFAULT_CURRENCY }),
    create: (deps, facades) =>
      createBookingModule({ ...deps, movie: required(facades.movie, 'SERVICE_URL_MOVIE is required when MODULES includes booking but not movie') }),
    remote: (client) => createRemoteBookingFacade(client),
  },
  payment: {
    name: 'payment',
    publicPaths: ['/api/v1/payments'],
    mapping: (config) => createPaymentMapping({ defaultCurrency: config.DEFAULT_CURRENCY }),
    // booking's facade (hosted here, or remote by SERVICE_URL_BOOKING): a payment asks it for a booking whose snapshot is late
    create: (deps, facades) => createPaymentModule({ ...deps, booking: facades.booking }),
    remote: (client) => createRemotePaymentFacade(client),
  },
  // no remote adapter: notification offers other modules nothing (it only consumes events)
  notification: {
    name: 'notification',
    publicPaths: ['/api/v1/notifications'],
    mapping: () => createNotificationMapping(),
    create: (deps) => createNotificationModule(deps),
  },
};

/** Every module's mapping (the CLI's backfill, cutover and migrate use them without composing the app). */
export function allMappings(config: Config): ModuleMapping[] {
  return MODULE_NAMES.map((m) => MODULE_REGISTRY[m].mapping(config));
}
