import test from 'ava';
import { connectAs, createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
test.before(async () => {
  db = await createTestDatabase();
});
test.after.always(async () => {
  await db?.drop();
});

async function sqlstate(role: string, sql: string): Promise<string> {
  const client = await connectAs(db.url, role);
  try {
    await client.query('BEGIN');
    await client.query(sql);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}

test('the booking role is refused (42501) on the payments and auth schemas', async (t) => {
  t.is(await sqlstate('boxoffice_bookings', 'SELECT * FROM payments.payments'), '42501');
  t.is(await sqlstate('boxoffice_bookings', 'SELECT * FROM auth.users'), '42501');
  t.is(await sqlstate('boxoffice_bookings', 'SELECT * FROM auth.refresh_tokens'), '42501');
});

test('every module role is refused on every other module schema', async (t) => {
  const schemas = ['auth', 'movies', 'bookings', 'payments', 'notifications'];
  for (const own of schemas) {
    for (const other of schemas.filter((s) => s !== own)) {
      t.is(
        await sqlstate(`boxoffice_${own}`, `CREATE TABLE ${other}.intruder (id int)`),
        '42501',
        `${own} must not create in ${other}`,
      );
    }
  }
  t.is(await sqlstate('boxoffice_payments', 'SELECT count(*) FROM auth.users'), '42501');
});

test('positive controls: a role works in its own schema and on the legacy tables it owned', async (t) => {
  t.is(await sqlstate('boxoffice_auth', 'SELECT count(*) FROM auth.users'), 'ok');
  t.is(await sqlstate('boxoffice_bookings', 'CREATE TABLE bookings.scratch (id int)'), 'ok');
  t.is(await sqlstate('boxoffice_auth', 'SELECT count(*) FROM public.users'), 'ok');
  t.is(await sqlstate('boxoffice_bookings', 'SELECT count(*) FROM public.showtimes'), 'ok');
});

test('legacy grants mirror the old couplings and nothing more', async (t) => {
  // the old booking service never touched payments; the old payment service did update bookings
  t.is(await sqlstate('boxoffice_bookings', 'SELECT count(*) FROM public.payments'), '42501');
  t.is(await sqlstate('boxoffice_payments', "UPDATE public.bookings SET status = 'confirmed' WHERE false"), 'ok');
  t.is(await sqlstate('boxoffice_notifications', 'DELETE FROM public.users WHERE false'), '42501');
  t.is(await sqlstate('boxoffice_migration', "INSERT INTO public.users (email, hashed_password) VALUES ('x@y.z', 'x')"), '42501');
});
