import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog } from '../../helpers/catalog.ts';

// the HTTP contract of issue 3 (outside checks rely on it), on each catalog store
for (const store of ['legacy', 'own'] as const) {
  let t0: TestApp;
  let admin: string;
  let user: string;
  test.before(async () => {
    t0 = await startTestApp({ env: { STORE_MOVIE: store } });
    admin = await adminToken(t0);
    user = (await registerAndLogin(t0.url)).access;
  });
  test.after.always(async () => {
    await t0?.stop();
  });
  const name = (s: string) => `${store}: ${s}`;

  test(name('admin writes: 201 for an admin, 403 for a user token, 401 without one'), async (t) => {
    const body = { title: 'Dune: Part Three', duration_minutes: 166, genre: 'Sci-Fi', rating: 'PG-13', release_date: '2026-12-18', description: 'Sand.' };
    const created = await api(t0.url, 'POST', '/api/v1/movies', { token: admin, body });
    t.is(created.status, 201);
    t.regex(created.body.id, /^[0-9a-f-]{36}$/);
    t.like(created.body, { title: 'Dune: Part Three', duration_minutes: 166, genre: 'Sci-Fi', rating: 'PG-13', release_date: '2026-12-18' });
    const theaterBody = { name: 'Hall 1', city: 'Hanoi', layout: { rows: [{ row: 'A', seats: 3 }, { row: 'B', seats: 2, type: 'vip' }] } };
    const showtimeBody = { movie_id: created.body.id, theater_id: created.body.id, start_time: '2030-01-01T19:00:00Z', base_price: 1 };
    for (const [path, b] of [['/api/v1/movies', body], ['/api/v1/theaters', theaterBody], ['/api/v1/showtimes', showtimeBody]] as const) {
      const asUser = await api(t0.url, 'POST', path, { token: user, body: b });
      t.is(asUser.status, 403, path);
      t.is(asUser.body.type, 'urn:boxoffice:problem:forbidden');
      t.is((await api(t0.url, 'POST', path, { body: b })).status, 401, path);
    }
    const got = await api(t0.url, 'GET', `/api/v1/movies/${created.body.id}`);
    t.is(got.status, 200);
    t.is(got.body.title, 'Dune: Part Three');
    const patched = await api(t0.url, 'PATCH', `/api/v1/movies/${created.body.id}`, { token: admin, body: { title: 'Dune: Messiah' } });
    t.is(patched.status, 200);
    t.is((await api(t0.url, 'GET', `/api/v1/movies/${created.body.id}`)).body.title, 'Dune: Messiah', 'the cached read was invalidated');
  });

  test(name('a theater is created with its seats numbered per row; a showtime on it prices every seat'), async (t) => {
    const theater = await api(t0.url, 'POST', '/api/v1/theaters', {
      token: admin,
      body: { name: 'Galaxy Nguyen Du - Screen 2', city: 'Ho Chi Minh City', layout: { rows: [{ row: 'A', seats: 3 }, { row: 'B', seats: 2, type: 'vip' }] } },
    });
    t.is(theater.status, 201);
    t.deepEqual(theater.body.seats.map((s: { row: string; number: number; type: string }) => `${s.row}${s.number}:${s.type}`), ['A1:standard', 'A2:standard', 'A3:standard', 'B1:vip', 'B2:vip']);
    for (const s of theater.body.seats) t.regex(s.id, /^[0-9a-f-]{36}$/);
    const movie = await api(t0.url, 'POST', '/api/v1/movies', { token: admin, body: { title: 'Short', duration_minutes: 90 } });
    const start = '2031-03-01T12:00:00.000Z';
    const showtime = await api(t0.url, 'POST', '/api/v1/showtimes', {
      token: admin,
      body: { movie_id: movie.body.id, theater_id: theater.body.id, start_time: start, base_price: 120000 },
    });
    t.is(showtime.status, 201);
    t.like(showtime.body, { start_time: start, end_time: '2031-03-01T13:30:00.000Z', base_price: '120000.00', currency: 'VND', status: 'scheduled', total_seats: 5, available_seats: 5 });
    const seats = await api(t0.url, 'GET', `/api/v1/showtimes/${showtime.body.id}/seats`);
    t.is(seats.status, 200);
    t.is(seats.body.length, 5);
    t.deepEqual(Object.keys(seats.body[0]).sort(), ['number', 'price', 'row', 'seat_id', 'status', 'type']);
    t.true(seats.body.every((s: { status: string; price: string }) => s.status === 'available' && s.price === '120000.00'));
    const overlapping = await api(t0.url, 'POST', '/api/v1/showtimes', {
      token: admin,
      body: { movie_id: movie.body.id, theater_id: theater.body.id, start_time: '2031-03-01T13:00:00Z', base_price: 1 },
    });
    t.is(overlapping.status, 409);
    t.is(overlapping.body.type, 'urn:boxoffice:problem:showtime-overlap');
  });

  test(name('lists page and filter; showtimes by movie and day'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 4 });
    const one = await api(t0.url, 'GET', '/api/v1/movies?limit=1&offset=0');
    t.is(one.status, 200);
    t.is(one.body.items.length, 1);
    t.true(one.body.total >= 1);
    t.like(one.body, { limit: 1, offset: 0 });
    const movie = (await api(t0.url, 'GET', `/api/v1/movies/${c.movieId}`)).body;
    const byTitle = await api(t0.url, 'GET', `/api/v1/movies?q=${encodeURIComponent(movie.title.slice(5))}`);
    t.deepEqual(byTitle.body.items.map((m: { id: string }) => m.id), [c.movieId]);
    const showtime = (await api(t0.url, 'GET', `/api/v1/showtimes/${c.showtimeId}`)).body;
    const day = showtime.start_time.slice(0, 10);
    const listed = await api(t0.url, 'GET', `/api/v1/showtimes?movie_id=${c.movieId}&date=${day}`);
    t.is(listed.status, 200);
    t.deepEqual(listed.body.items.map((s: { id: string }) => s.id), [c.showtimeId]);
    const otherDay = await api(t0.url, 'GET', `/api/v1/showtimes?movie_id=${c.movieId}&date=2020-01-01`);
    t.is(otherDay.body.total, 0);
    const theaters = await api(t0.url, 'GET', '/api/v1/theaters?city=hanoi&limit=100');
    t.true(theaters.body.items.some((th: { id: string }) => th.id === c.theaterId));
    t.is((await api(t0.url, 'GET', `/api/v1/theaters/${c.theaterId}`)).body.seats.length, 4);
  });

  test(name('cancel: the showtime leaves the default listing, stays readable, and cancelling again is a no-op'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
    const cancelled = await api(t0.url, 'POST', `/api/v1/showtimes/${c.showtimeId}/cancel`, { token: admin, body: { reason: 'projector broke' } });
    t.is(cancelled.status, 200);
    t.like(cancelled.body, { status: 'cancelled', cancel_reason: 'projector broke' });
    t.is((await api(t0.url, 'POST', `/api/v1/showtimes/${c.showtimeId}/cancel`, { token: admin })).body.status, 'cancelled');
    const listed = await api(t0.url, 'GET', `/api/v1/showtimes?movie_id=${c.movieId}`);
    t.is(listed.body.total, 0);
    const withCancelled = await api(t0.url, 'GET', `/api/v1/showtimes?movie_id=${c.movieId}&include_cancelled=true`);
    t.is(withCancelled.body.total, 1);
    const patch = await api(t0.url, 'PATCH', `/api/v1/showtimes/${c.showtimeId}`, { token: admin, body: { base_price: 5 } });
    t.is(patch.status, 409);
  });

  test(name('prices, dates and poster links are bounded by what every store holds (issue 8)'), async (t) => {
    const movie = (body: Record<string, unknown>) => api(t0.url, 'POST', '/api/v1/movies', { token: admin, body: { title: 'Bounds', duration_minutes: 90, ...body } });
    const field = (res: { body: { errors?: { field: string }[] } }) => res.body.errors?.map((e) => e.field);
    for (const release_date of ['0000-01-01', '1869-12-31', '9999-12-31']) {
      const res = await movie({ release_date });
      t.is(res.status, 422, release_date);
      t.deepEqual(field(res), ['release_date']);
    }
    t.is((await movie({ release_date: '1895-12-28' })).status, 201);
    for (const poster_url of ['javascript:alert(document.cookie)', 'file:///etc/passwd', 'data:text/html,<script>alert(1)</script>']) {
      const res = await movie({ poster_url });
      t.is(res.status, 422, poster_url);
      t.deepEqual(field(res), ['poster_url']);
    }
    t.is((await movie({ poster_url: 'https://img.example.com/poster.jpg' })).status, 201);

    const c = await createCatalog(t0, admin, { rows: 1, perRow: 1 });
    const theater = await api(t0.url, 'POST', '/api/v1/theaters', { token: admin, body: { name: 'Bounds hall', layout: { rows: [{ row: 'A', seats: 2 }] } } });
    const showtime = (body: Record<string, unknown>) =>
      api(t0.url, 'POST', '/api/v1/showtimes', { token: admin, body: { movie_id: c.movieId, theater_id: theater.body.id, start_time: '2032-05-01T19:00:00Z', base_price: '1', ...body } });
    for (const [body, name] of [
      [{ base_price: '100000000' }, 'base_price'],
      [{ base_price: 100000000 }, 'base_price'],
      [{ tier_prices: { vip: '123456789' } }, 'tier_prices.vip'],
      [{ start_time: '0000-01-01T00:00:00Z' }, 'start_time'],
      [{ start_time: new Date(Date.now() - 3_600_000).toISOString() }, 'start_time'],
    ] as const) {
      const res = await showtime(body);
      t.is(res.status, 422, JSON.stringify(body));
      t.deepEqual(field(res), [name], JSON.stringify(res.body));
    }
    // the largest price every store holds is stored and read back exactly (the legacy column is DECIMAL(10,2))
    const top = await showtime({ base_price: '99999999.99' });
    t.is(top.status, 201, JSON.stringify(top.body));
    t.is(top.body.base_price, '99999999.99');
    const past = await api(t0.url, 'PATCH', `/api/v1/showtimes/${top.body.id}`, { token: admin, body: { start_time: '2001-01-01T00:00:00Z' } });
    t.is(past.status, 422);
    t.deepEqual(field(past), ['start_time']);
  });

  test(name('bad input is 422 naming the field; unknown ids are 404 / 422'), async (t) => {
    const bad = await api(t0.url, 'POST', '/api/v1/movies', { token: admin, body: { title: '', duration_minutes: 'long' } });
    t.is(bad.status, 422);
    t.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['duration_minutes', 'title']);
    const layout = await api(t0.url, 'POST', '/api/v1/theaters', { token: admin, body: { name: 'X', layout: { rows: [{ row: 'a1', seats: 0 }] } } });
    t.is(layout.status, 422);
    t.deepEqual(layout.body.errors.map((e: { field: string }) => e.field).sort(), ['layout.rows.0.row', 'layout.rows.0.seats']);
    const price = await api(t0.url, 'POST', '/api/v1/showtimes', {
      token: admin,
      body: { movie_id: '00000000-0000-4000-8000-000000000000', theater_id: '00000000-0000-4000-8000-000000000001', start_time: 'tomorrow', base_price: 1.234 },
    });
    t.is(price.status, 422);
    t.deepEqual(price.body.errors.map((e: { field: string }) => e.field).sort(), ['base_price', 'start_time']);
    const unknownRefs = await api(t0.url, 'POST', '/api/v1/showtimes', {
      token: admin,
      body: { movie_id: '00000000-0000-4000-8000-000000000000', theater_id: '00000000-0000-4000-8000-000000000001', start_time: '2030-01-01T00:00:00Z', base_price: '10' },
    });
    t.is(unknownRefs.status, 422);
    t.deepEqual(unknownRefs.body.errors.map((e: { field: string }) => e.field).sort(), ['movie_id', 'theater_id']);
    t.is((await api(t0.url, 'GET', '/api/v1/movies/00000000-0000-4000-8000-000000000000')).status, 404);
    t.is((await api(t0.url, 'GET', '/api/v1/showtimes/00000000-0000-4000-8000-000000000000/seats')).status, 404);
    const notUuid = await api(t0.url, 'GET', '/api/v1/showtimes/nope/seats');
    t.is(notUuid.status, 422);
    t.is(notUuid.body.errors[0].field, 'path.id');
    const limit = await api(t0.url, 'GET', '/api/v1/movies?limit=1000');
    t.is(limit.status, 422);
    t.is(limit.body.errors[0].field, 'query.limit');
  });
}
