import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { advance, CutoverRefused, rollback, status, type CutoverDeps } from '../../src/migration/cutover/cutover.ts';
import { serviceProbe, shippedMigration } from '../../src/migration/extraction/service-probe.ts';
import { ServiceCredential } from '../../src/platform/auth/service-credential.ts';
import { api, startTestApp, TEST_INTERNAL_API_SECRET, type TestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers, type Catalog, type TestUser } from '../helpers/catalog.ts';
import { freePort, startChildApp, type ChildApp } from '../helpers/child-app.ts';
import { cutoverDepsFor, writePlan } from '../helpers/cutover.ts';
import { waitFor } from '../helpers/events.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { unleashTestEnv } from '../helpers/unleash.ts';

/**
 * EXTRACTED under traffic (issue 10): the monolith hosts every module and has a booking deployment of its
 * own beside it (`node src/main.ts`, MODULES=booking, same database, same Unleash app). Users keep booking
 * and cancelling through the monolith while `boxoffice cutover` moves route_booking_to_service 0 → 50 →
 * 100 % and rolls it back to 0: no request fails, each user is served by one side while a share holds,
 * and the two processes' logs say where each request ran.
 */
const FLAG = 'route_booking_to_service' as const;
let monolith: TestApp;
let service: ChildApp;
let admin: string;
let catalog: Catalog;
let users: TestUser[];
let deps: CutoverDeps;
const logs = captureLogs('info');

test.before(async () => {
  const port = await freePort();
  monolith = await startTestApp({ unleash: true, logger: logs.logger, env: { SERVICE_URL_BOOKING: `http://127.0.0.1:${port}`, DB_POOL_MAX: '6', BOOKING_MAX_PENDING_BOOKINGS: '50' } });
  // per-seat locks on both sides (the whole-showtime lock answers a busy showtime 409 "try again")
  await monolith.setFlag('use_per_seat_locks', true);
  const { url, clientToken } = unleashTestEnv();
  service = await startChildApp({
    MODULES: 'booking',
    DATABASE_URL: monolith.db.url,
    REDIS_KEY_PREFIX: monolith.env['REDIS_KEY_PREFIX']!,
    UNLEASH_URL: url,
    UNLEASH_API_TOKEN: clientToken,
    UNLEASH_APP_NAME: monolith.env['UNLEASH_APP_NAME']!,
    UNLEASH_REFRESH_INTERVAL_MS: '200',
    // what the flag is in Unleash for this app already: the same before the first fetch as after it
    FLAGS_BOOTSTRAP: 'use_per_seat_locks=true',
    SERVICE_URL_AUTH: monolith.url,
    SERVICE_URL_MOVIE: monolith.url,
    TRUST_PROXY: 'true',
    BOOKING_MAX_PENDING_BOOKINGS: '50',
    DB_POOL_MAX: '6',
  }, { port });
  admin = await adminToken(monolith);
  catalog = await createCatalog(monolith, admin, { rows: 8, perRow: 10 });
  users = await forgeUsers(monolith, 16);
  const plan = await writePlan(`
defaults:
  hold: 0s
  shadow_reads: { min_reads: 1, max_mismatch_rate: 0, window: 1h }
stages:
  - id: extraction
    title: booking moves to its own deployment
    modules: [booking]
    phases:
      - phase: EXTRACTED
        title: "{module} routed"
        set: { "route_{module}_to_service": true }
        rollout: [50, 100]
        guards: [service_ready]
        hold: 0s
`);
  deps = { ...cutoverDepsFor(monolith, plan), services: serviceProbe({ serviceUrls: { booking: service.url }, credential: new ServiceCredential({ secret: TEST_INTERNAL_API_SECRET, caller: 'cutover' }) }) };
});
test.after.always(async () => {
  await service?.stop();
  await monolith?.stop();
});

interface Sent {
  user: string;
  correlation: string;
  /** the share in force (as the monolith saw it) for the whole request, or undefined across a flip */
  share: number | undefined;
  status: number;
  cancel: number;
  problem?: unknown;
}

test.serial('route_booking_to_service 0 → 50 → 100 → 0 % under load: nothing fails, users stay on one side, logs say where', async (t) => {
  const sent: Sent[] = [];
  let share: number | undefined = 0;
  let stopping = false;
  const done = new Map<string, number>();
  // each user books and cancels its own few seats over and over (a cancelled seat is free again at once)
  const worker = async (u: TestUser, i: number) => {
    const mine = catalog.seatIds.slice(i * 5, i * 5 + 5);
    let seatCursor = 0;
    while (!stopping) {
      const seat = mine[seatCursor++ % mine.length]!;
      const before = share;
      const correlation = `flip-${randomBytes(6).toString('hex')}`;
      const res = await api(monolith.url, 'POST', '/api/v1/bookings', { token: u.token, headers: { 'x-correlation-id': correlation }, body: { showtime_id: catalog.showtimeId, seat_ids: [seat] } });
      const cancel = res.status === 201 ? (await api(monolith.url, 'POST', `/api/v1/bookings/${res.body.id}/cancel`, { token: u.token, headers: { 'x-correlation-id': `${correlation}-c` } })).status : 0;
      sent.push({ user: u.id, correlation, share: before === share ? before : undefined, status: res.status, cancel, ...(res.status === 201 ? {} : { problem: res.body }) });
      done.set(u.id, (done.get(u.id) ?? 0) + 1);
    }
  };
  const failures: unknown[] = [];
  const load = Promise.all(users.map((u, i) => worker(u, i).catch((err: unknown) => void failures.push(err))));
  const cycles = () => Math.min(...users.map((u) => done.get(u.id) ?? 0));
  const settle = async (label: string, expect: (enabled: boolean[]) => boolean, next: number) => {
    share = undefined; // requests begun now may see either side
    await waitFor(`the monolith sees ${label}`, () => expect(users.map((u) => monolith.app.flags.isEnabled(FLAG, { userId: u.id }))) || undefined, 15_000);
    share = next;
    const base = cycles();
    await waitFor(`two more bookings per user at ${label}`, () => {
      if (failures.length > 0) throw new Error(`a client failed: ${String(failures[0])}`);
      return cycles() >= base + 2 || undefined;
    }, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${sent.length} sent, per user ${users.map((u) => done.get(u.id) ?? 0).join(',')}, statuses ${JSON.stringify(sent.filter((x) => x.status !== 201).slice(-3))}`);
    });
  };
  await waitFor('load under way', () => cycles() >= 2 || undefined, 30_000);

  const to50 = await advance(deps, { module: 'booking', actor: 'test' });
  t.is(to50.to, 'EXTRACTED 50%');
  t.true(to50.guards.find((g) => g.guard === 'service_ready')?.ok, JSON.stringify(to50.guards));
  await settle('50 %', (on) => on.some(Boolean) && !on.every(Boolean), 50);
  const routedAt50 = new Set(users.filter((u) => monolith.app.flags.isEnabled(FLAG, { userId: u.id })).map((u) => u.id));
  t.is((await advance(deps, { module: 'booking', actor: 'test' })).to, 'EXTRACTED');
  await settle('100 %', (on) => on.every(Boolean), 100);
  const back = await rollback(deps, 'booking', { actor: 'test', reason: 'drill' });
  t.deepEqual(back.changes, [{ flag: FLAG, rollout: 0 }]);
  await settle('0 %', (on) => !on.some(Boolean), 0);
  stopping = true;
  await load;

  // no request lost or failed, across the flips too
  t.true(sent.length >= users.length * 8, `${sent.length} bookings`);
  t.deepEqual(sent.filter((s) => s.status !== 201 || s.cancel !== 200), [], 'every booking 201, every cancel 200');
  const rows = (await monolith.app.databases.forRole('legacy', 'public').raw(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled FROM bookings WHERE user_id = ANY(?)`, [users.map((u) => u.id)])) as { rows: { n: number; cancelled: number }[] };
  t.deepEqual(rows.rows[0], { n: sent.length, cancelled: sent.length }, 'each 201 is one booking row, each cancelled');

  // where each request ran: the monolith logs it as routed (or serves it), the booking process logs what it served
  await waitFor('the booking process logged its requests', () => service.lines.length > 0 || undefined);
  const servedThere = new Set(service.lines.filter((l) => l['msg'] === 'request').map((l) => l['correlation_id']));
  const routedHere = new Set(logs.lines.filter((l) => l.msg === 'request' && l['routed_to'] === 'booking-service').map((l) => l['correlation_id']));
  const servedHere = new Set(logs.lines.filter((l) => l.msg === 'request' && l['path'] === '/api/v1/bookings' && !l['routed_to']).map((l) => l['correlation_id']));
  for (const s of sent) {
    t.true(servedThere.has(s.correlation) === routedHere.has(s.correlation), `${s.correlation}: both logs agree`);
    t.true(servedThere.has(s.correlation) !== servedHere.has(s.correlation), `${s.correlation}: ran in exactly one process`);
  }
  const remote = (s: Sent) => servedThere.has(s.correlation);
  const settled = (p: number) => sent.filter((s) => s.share === p);
  t.true(settled(0).length > 0 && settled(50).length > 0 && settled(100).length > 0);
  t.true(settled(0).every((s) => !remote(s)), 'at 0 % (before and after) everything stays in the monolith');
  t.true(settled(100).every(remote), 'at 100 % everything goes to the booking deployment');
  for (const s of settled(50)) t.is(remote(s), routedAt50.has(s.user), `user ${s.user} sticks to one side at 50 %`);
  t.true(routedAt50.size > 0 && routedAt50.size < users.length);
  t.log(`${sent.length} bookings + ${sent.length} cancels, 0 failed; settled at 0 %: ${settled(0).length}, 50 %: ${settled(50).length} (${routedAt50.size}/${users.length} users routed), 100 %: ${settled(100).length}; across flips: ${sent.filter((s) => s.share === undefined).length}; served by the booking deployment: ${sent.filter(remote).length}`);
  // a booking's cancel ran where its booking did (same user, same share)
  t.true(settled(50).every((s) => servedThere.has(`${s.correlation}-c`) === remote(s)));
});

test.serial('service_ready: refused for a deployment that is down, hosts another module, is keyed differently or runs an older schema', async (t) => {
  const credential = new ServiceCredential({ secret: TEST_INTERNAL_API_SECRET, caller: 'cutover' });
  const probe = serviceProbe({ serviceUrls: { booking: service.url, payment: service.url, movie: 'http://127.0.0.1:1' }, credential });
  t.like(await probe('booking'), { ok: true });
  t.regex((await probe('payment')).detail, /does not host payment \(MODULES=booking\)/);
  t.regex((await probe('movie')).detail, /did not answer/);
  t.regex((await probe('notification')).detail, /SERVICE_URL_NOTIFICATION is not set/);
  const stranger = serviceProbe({ serviceUrls: { booking: service.url }, credential: new ServiceCredential({ secret: 'another-deployment-secret-0123456789abcdef', caller: 'cutover' }) });
  t.regex((await stranger('booking')).detail, /refused .* \(401\)/);
  // this release ships a newer booking migration than the deployment's schema has
  const dir = await mkdtemp(join(tmpdir(), 'bo-migrations-'));
  await mkdir(join(dir, 'bookings'));
  await writeFile(join(dir, 'bookings', '9999_future_change.ts'), '');
  const ahead = serviceProbe({ serviceUrls: { booking: service.url }, credential, migrationsDir: dir });
  const result = await ahead('booking');
  t.false(result.ok);
  t.regex(result.detail, new RegExp(`schema at ${shippedMigration('booking')}, this release ships 9999_future_change`));

  // and the cutover refuses the step on its word, naming why
  const before = (await status(deps)).state.modules.booking;
  const downDeps = { ...deps, services: serviceProbe({ serviceUrls: { booking: 'http://127.0.0.1:1' }, credential }) };
  const err = await t.throwsAsync(advance(downDeps, { module: 'booking', actor: 'test' }), { instanceOf: CutoverRefused });
  t.regex(err!.message, /service_ready: .* did not answer/);
  t.deepEqual((await status(deps)).state.modules.booking, before, 'the refused step changed nothing');
});
