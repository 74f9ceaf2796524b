import test from 'ava';
import { createRemoteMovieFacade } from '../../../src/modules/movie/index.ts';
import { ServiceCredential } from '../../../src/platform/auth/service-credential.ts';
import { ServiceUnavailableError } from '../../../src/platform/errors.ts';
import { InternalClient } from '../../../src/platform/http/internal-client.ts';
import { api, startTestApp, TEST_INTERNAL_API_SECRET, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../../helpers/catalog.ts';
import { movieFacadeContract } from './movie-facade.contract.ts';

let host: TestApp;
let admin: string;
test.before(async () => {
  host = await startTestApp({ env: { STORE_MOVIE: 'own', STORE_BOOKING: 'own' } });
  admin = await adminToken(host);
});
test.after.always(async () => {
  await host?.stop();
});

movieFacadeContract(test, 'in-process adapter', () => ({ facade: host.app.movie!.facade, host, admin }));
const credential = (secret = TEST_INTERNAL_API_SECRET) => new ServiceCredential({ secret, caller: 'booking' });
// the host app shares this process's event loop: under load a short deadline would measure the machine, not the adapter
const client = (baseUrl: string, secret?: string) => new InternalClient({ target: 'movie', baseUrl, credential: credential(secret), retries: 0, timeoutMs: 10_000 });
movieFacadeContract(test, 'remote adapter (HTTP)', () => ({ facade: createRemoteMovieFacade(client(host.url)), host, admin }));

test('remote adapter: a movie service that does not answer is a 503 error, not "no such showtime"', async (t) => {
  const facade = createRemoteMovieFacade(client('http://127.0.0.1:1'));
  await t.throwsAsync(facade.getShowtimeSnapshot('00000000-0000-4000-8000-000000000000'), { instanceOf: ServiceUnavailableError });
});

test('remote adapter with another deployment\'s secret: the internal API refuses it, and the facade says 503', async (t) => {
  const c = await createCatalog(host, admin, { rows: 1, perRow: 1 });
  const facade = createRemoteMovieFacade(client(host.url, 'some-other-deployment-secret-0123456789'));
  await t.throwsAsync(facade.getShowtimeSnapshot(c.showtimeId), { instanceOf: ServiceUnavailableError, message: /answered 401/ });
});

test('a booking-only deployment (MODULES=auth,booking, SERVICE_URL_MOVIE) books through the remote facade', async (t) => {
  const split = await startTestApp({ db: host.db, env: { MODULES: 'auth,booking', SERVICE_URL_MOVIE: host.url, STORE_BOOKING: 'own', FLAGS_BOOTSTRAP: 'use_per_seat_locks=true' } });
  try {
    t.is(split.app.movie, undefined);
    t.is((await api(split.url, 'GET', '/api/v1/movies')).status, 404, 'movie routes are not served here');
    const c = await createCatalog(host, admin, { rows: 1, perRow: 2, basePrice: '99.90' });
    const [user] = await forgeUsers(split, 1);
    const res = await api(split.url, 'POST', '/api/v1/bookings', { token: user!.token, body: { showtime_id: c.showtimeId, seat_ids: c.seatIds } });
    t.is(res.status, 201, JSON.stringify(res.body));
    t.is(res.body.total_price, '199.80');
    t.is(res.body.showtime.movie_id, c.movieId);
    t.is((await api(split.url, 'POST', '/api/v1/bookings', { token: user!.token, body: { showtime_id: c.showtimeId, seat_ids: [c.seatIds[0]!] } })).status, 409);
  } finally {
    await split.stop();
  }
});

test('remote adapter: a known layout is revalidated (304, no body) on every read, and a changed one is read afresh', async (t) => {
  const c = await createCatalog(host, admin, { rows: 2, perRow: 3, basePrice: '50.00' });
  const facade = createRemoteMovieFacade(client(host.url));
  const notModified = async () => {
    const text = await (await fetch(`${host.url}/metrics`)).text();
    return Number(/http_request_duration_seconds_count\{method="GET",route="\/internal\/v1\/movie\/showtimes\/:id\/layout",status="304"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const before = await notModified();
  const first = await facade.getSeatLayout(c.showtimeId);
  t.is(first?.length, 6);
  t.deepEqual(await facade.getSeatLayout(c.showtimeId), first);
  t.deepEqual(await facade.getSeatLayout(c.showtimeId), first);
  t.is(await notModified(), before + 2, 'the second and third reads were answered 304');
  // the price changes: the next read carries it, whatever the adapter held
  const patched = await api(host.url, 'PATCH', `/api/v1/showtimes/${c.showtimeId}`, { token: admin, body: { base_price: '70.00' } });
  t.is(patched.status, 200, JSON.stringify(patched.body));
  const after = await facade.getSeatLayout(c.showtimeId);
  t.true(after!.every((s) => s.price === '70.00'), JSON.stringify(after?.[0]));
  t.is(await notModified(), before + 2);
});
