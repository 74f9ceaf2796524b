import { Router } from '@koa/router';
import type { Authenticator } from '../../../platform/auth/authenticator.ts';
import type { HttpState } from '../../../platform/http/app.ts';
import { sendJsonWithEtag } from '../../../platform/http/etag.ts';
import { parseBody, parseParams, parseQuery } from '../../../platform/http/validate.ts';
import type { CatalogService } from './catalog-service.ts';
import { ShowtimeNotFoundError } from './errors.ts';
import {
  cancelShowtimeBody, createMovieBody, createShowtimeBody, createTheaterBody, idParams, listMoviesQuery, listShowtimesQuery,
  listTheatersQuery, updateMovieBody, updateShowtimeBody, updateTheaterBody,
} from './schemas.ts';
import type { ShowtimeService } from './showtime-service.ts';

export interface MovieRoutesDeps {
  catalog: CatalogService;
  showtimes: ShowtimeService;
  authenticator: Authenticator;
}

/**
 * /api/v1/movies, /theaters, /showtimes: reads are public, writes need the admin role (401 without a
 * token, 403 with a user's). /internal/v1/movie/…: what the remote movie facade reads (not routed
 * from outside the cluster).
 */
export function createMovieRoutes(deps: MovieRoutesDeps): Router[] {
  const { catalog, showtimes } = deps;
  const admin = deps.authenticator.requireRole('admin');
  const api = new Router<HttpState>({ prefix: '/api/v1' });

  api.get('/movies', async (ctx) => {
    const q = parseQuery(ctx, listMoviesQuery);
    ctx.body = await catalog.listMovies({ genre: q.genre, rating: q.rating, q: q.q }, { limit: q.limit, offset: q.offset });
  });
  api.get('/movies/:id', async (ctx) => {
    ctx.body = await catalog.getMovie(parseParams(ctx, idParams).id);
  });
  api.post('/movies', admin, async (ctx) => {
    ctx.status = 201;
    ctx.body = await catalog.createMovie(parseBody(ctx, createMovieBody));
  });
  api.patch('/movies/:id', admin, async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    ctx.body = await catalog.updateMovie(id, parseBody(ctx, updateMovieBody));
  });

  api.get('/theaters', async (ctx) => {
    const q = parseQuery(ctx, listTheatersQuery);
    ctx.body = await catalog.listTheaters({ city: q.city }, { limit: q.limit, offset: q.offset });
  });
  api.get('/theaters/:id', async (ctx) => {
    ctx.body = await catalog.getTheater(parseParams(ctx, idParams).id);
  });
  api.post('/theaters', admin, async (ctx) => {
    ctx.status = 201;
    ctx.body = await catalog.createTheater(parseBody(ctx, createTheaterBody));
  });
  api.patch('/theaters/:id', admin, async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    ctx.body = await catalog.updateTheater(id, parseBody(ctx, updateTheaterBody));
  });

  api.get('/showtimes', async (ctx) => {
    ctx.body = await showtimes.list(parseQuery(ctx, listShowtimesQuery));
  });
  api.get('/showtimes/:id', async (ctx) => {
    ctx.body = await showtimes.get(parseParams(ctx, idParams).id);
  });
  api.get('/showtimes/:id/seats', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await showtimes.seatMap(parseParams(ctx, idParams).id);
  });
  api.post('/showtimes', admin, async (ctx) => {
    ctx.status = 201;
    ctx.body = await showtimes.create(parseBody(ctx, createShowtimeBody));
  });
  api.patch('/showtimes/:id', admin, async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    ctx.body = await showtimes.update(id, parseBody(ctx, updateShowtimeBody));
  });
  api.post('/showtimes/:id/cancel', admin, async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    ctx.body = await showtimes.cancel(id, parseBody(ctx, cancelShowtimeBody).reason);
  });

  const internal = new Router<HttpState>({ prefix: '/internal/v1/movie' });
  internal.get('/showtimes/:id/snapshot', async (ctx) => {
    const snapshot = await showtimes.snapshot(parseParams(ctx, idParams).id);
    if (!snapshot) throw new ShowtimeNotFoundError();
    ctx.body = snapshot;
  });
  internal.get('/showtimes/:id/layout', async (ctx) => {
    const layout = await showtimes.layout(parseParams(ctx, idParams).id);
    if (!layout) throw new ShowtimeNotFoundError();
    // a booking process revalidates the layout it has (If-None-Match) on every booking
    sendJsonWithEtag(ctx, layout);
  });

  return [api, internal];
}
