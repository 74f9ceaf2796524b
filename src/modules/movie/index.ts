import { z } from 'zod';
import type { InternalClient } from '../../platform/http/internal-client.ts';
import { MODULE_SCHEMAS } from '../../platform/config.ts';
import type { BoxofficeModule, PlatformDeps } from '../../platform/module.ts';
import { createBookingEventHandlers } from './internal/booking-event-handlers.ts';
import { CatalogCache, postgresGeneration } from './internal/catalog-cache.ts';
import { CatalogService } from './internal/catalog-service.ts';
import { CATALOG_STORE_METHODS } from './internal/catalog-store.ts';
import { ShowtimeOverlapError } from './internal/errors.ts';
import { createLegacyCatalogStore } from './internal/legacy-catalog-store.ts';
import { createOwnCatalogStore } from './internal/own-catalog-store.ts';
import { createRemoteMovieReads } from './internal/remote-facade.ts';
import { createMovieRoutes } from './internal/routes.ts';
import { createMovieBody, createShowtimeBody, createTheaterBody } from './internal/schemas.ts';
import { createSeatProjection } from './internal/seat-projection.ts';
import { ShowtimeService } from './internal/showtime-service.ts';
import type { MovieView, PricedSeat, ShowtimeSnapshot, ShowtimeView, TheaterView } from './internal/views.ts';

export { createMovieMapping } from './internal/movie-mapping.ts';
export {
  seatConfirmedV1, seatReleasedV1, seatReservedV1, showtimeCancelledV1, showtimeCreatedV1, showtimeUpdatedV1,
} from './internal/events.ts';
export type { MovieView, PricedSeat, ShowtimeSnapshot, ShowtimeView, TheaterView };

/** What booking may use of movie: the showtime it books and the seats with their prices. */
export interface MovieFacade {
  /** undefined when there is no such showtime */
  getShowtimeSnapshot(showtimeId: string): Promise<ShowtimeSnapshot | undefined>;
  /** every seat of the showtime's theater with its price there; undefined when there is no such showtime */
  getSeatLayout(showtimeId: string): Promise<PricedSeat[] | undefined>;
}

/** Operator actions (the CLI's demo seed), not for other modules. Each is idempotent. */
export interface MovieAdmin {
  ensureMovie(input: z.input<typeof createMovieBody>): Promise<{ movie: MovieView; created: boolean }>;
  ensureTheater(input: z.input<typeof createTheaterBody>): Promise<{ theater: TheaterView; created: boolean }>;
  /** creates the showtime unless the theater already has one overlapping it */
  ensureShowtime(input: z.input<typeof createShowtimeBody>): Promise<{ showtime: ShowtimeView | undefined; created: boolean }>;
}

export type MovieModule = BoxofficeModule<MovieFacade> & { admin: MovieAdmin };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** the module's own schema: its catalog tables, seat_availability, outbox and inbox */
const SCHEMA = MODULE_SCHEMAS.movie;

export function createMovieModule(deps: PlatformDeps): MovieModule {
  const { config, db, logger } = deps;
  const store = deps.stores.route({
    module: 'movie',
    name: 'catalog',
    legacy: createLegacyCatalogStore(config.LEGACY_SCHEMA, config.DEFAULT_CURRENCY),
    own: createOwnCatalogStore(SCHEMA),
    methods: CATALOG_STORE_METHODS,
  });
  // without Redis the generation is a row of the movie schema, the values stay in this process (ADR 0078)
  const cache = new CatalogCache({
    redis: deps.redis,
    ...(deps.redis ? {} : { generation: postgresGeneration(db) }),
    keyPrefix: config.REDIS_KEY_PREFIX,
    ttlSeconds: config.MOVIE_CACHE_TTL_SECONDS,
    logger,
  });
  const catalog = new CatalogService({ db, store, cache });
  const showtimes = new ShowtimeService({ db, store, cache, outboxSchema: SCHEMA, defaultCurrency: config.DEFAULT_CURRENCY });
  const facade: MovieFacade = {
    getShowtimeSnapshot: async (id) => (UUID.test(id) ? showtimes.snapshot(id) : undefined),
    getSeatLayout: async (id) => (UUID.test(id) ? showtimes.layout(id) : undefined),
  };
  const admin: MovieAdmin = {
    async ensureMovie(input) {
      const parsed = createMovieBody.parse(input);
      const existing = await catalog.findMovieByTitle(parsed.title);
      return existing ? { movie: existing, created: false } : { movie: await catalog.createMovie(parsed), created: true };
    },
    async ensureTheater(input) {
      const parsed = createTheaterBody.parse(input);
      const existing = await catalog.findTheaterByName(parsed.name);
      return existing ? { theater: existing, created: false } : { theater: await catalog.createTheater(parsed), created: true };
    },
    async ensureShowtime(input) {
      try {
        return { showtime: await showtimes.create(createShowtimeBody.parse(input)), created: true };
      } catch (err) {
        if (err instanceof ShowtimeOverlapError) return { showtime: undefined, created: false };
        throw err;
      }
    },
  };
  logger.info({ stores: deps.stores.describe('movie') }, 'movie module ready');
  return {
    name: 'movie',
    facade,
    admin,
    routes: createMovieRoutes({ catalog, showtimes, authenticator: deps.authenticator }),
    workers: [],
    outbox: { schema: SCHEMA },
    consumer: {
      queue: 'movie-service.events',
      bindings: ['booking.*'],
      handlers: createBookingEventHandlers({ projection: createSeatProjection(SCHEMA), schema: SCHEMA, logger }),
    },
    async start() {},
    async stop() {},
    async health() {
      await db.raw('select 1');
      return { status: 'ok', details: { stores: deps.stores.describe('movie') } };
    },
  };
}

/**
 * The movie facade of a process that does not host movie (SERVICE_URL_MOVIE): the same reads over HTTP,
 * from movie's internal API, which answers only this deployment's service credential.
 */
export function createRemoteMovieFacade(client: InternalClient): MovieFacade {
  const reads = createRemoteMovieReads(client);
  return {
    getShowtimeSnapshot: async (id) => (UUID.test(id) ? reads.getShowtimeSnapshot(id) : undefined),
    getSeatLayout: async (id) => (UUID.test(id) ? reads.getSeatLayout(id) : undefined),
  };
}
