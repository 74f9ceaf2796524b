import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createNotificationMapping } from '../../../src/modules/notification/index.ts';
import { createLegacyNotificationStore } from '../../../src/modules/notification/internal/legacy-notification-store.ts';
import { createOwnNotificationStore } from '../../../src/modules/notification/internal/own-notification-store.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { compareSides, useMappingDatabase } from '../../helpers/strangler.ts';

const mapping = createNotificationMapping();
const legacy = createLegacyNotificationStore('public');
const own = createOwnNotificationStore();

const fx = useMappingDatabase(test);
let db: Knex;
test.serial.before(() => {
  db = fx.databases.forModule('notification');
});

/** copy by key the way backfill and repair do: the generated function, as the migration role */
const copyTo = async (side: 'own' | 'legacy', ids: string[]) =>
  void (await fx.databases.forRole('migration').raw(`SELECT migration.notification__notifications_copy_to_${side}(?::uuid[])`, [ids]));

const xmins = async (table: string, ids: string[]) =>
  ((await fx.admin.raw(`SELECT id, xmin::text AS x FROM ${table} WHERE id = ANY(?::uuid[]) ORDER BY id`, [ids])) as { rows: unknown[] }).rows;

const differences = async (ids: string[]) => (await compareSides(fx.admin, mapping)).filter((d) => ids.includes(d.key));

/**
 * Rows as the old notification service wrote them, as the legacy role: only the old columns, every
 * nullable one NULL somewhere (subject, status, sent_at, created_at), an unknown status, microseconds.
 */
async function writeTheOldWay(userId: string): Promise<string[]> {
  const rows: [string | null, string | null, string | null, string | null | undefined][] = [
    // subject, status, sent_at, created_at (undefined: the column default)
    [null, null, null, '2024-05-06 07:08:09.123456'],
    ['Your tickets', 'sent', '2024-05-06 08:00:00.5', '2024-05-06 07:59:59'],
    [null, 'queued', null, null],
    ['Payment failed', 'failed', null, undefined],
    ['', 'pending', null, '2024-05-06 07:08:09.123456'],
  ];
  const ids: string[] = [];
  for (const [subject, status, sentAt, createdAt] of rows) {
    const id = randomUUID();
    ids.push(id);
    await fx.databases.forRole('legacy', 'public').table('notifications').insert({
      id, user_id: userId, type: 'booking_confirmed', subject, message: `old mail ${ids.length}`, status, sent_at: sentAt,
      ...(createdAt === undefined ? {} : { created_at: createdAt }),
    });
  }
  return ids;
}

test('old rows → own: the own store reads what the legacy store read, the sides compare equal, and a second copy changes nothing', async (t) => {
  const userId = randomUUID();
  const ids = await writeTheOldWay(userId);
  const legacyBefore = await xmins('public.notifications', ids);

  await copyTo('own', ids);
  for (const id of ids) {
    const shown = await legacy.findById(db, id);
    t.truthy(shown);
    t.deepEqual(await own.findById(db, id), shown, `notification ${id}`);
  }
  const page = { limit: 10, offset: 0 };
  t.deepEqual(await own.listForUser(db, userId, page), await legacy.listForUser(db, userId, page), 'the same list, in the same order');
  t.deepEqual(await differences(ids), []);

  const ownAfterFirst = await xmins('notifications.notifications', ids);
  t.is(ownAfterFirst.length, ids.length);
  await copyTo('own', ids);
  t.deepEqual(await xmins('notifications.notifications', ids), ownAfterFirst, 'the second copy rewrote no own row');
  t.deepEqual(await xmins('public.notifications', ids), legacyBefore, 'copying to own never writes the legacy rows');
});

test('own → legacy: a notification the own store wrote reads back equal through the legacy store', async (t) => {
  const userId = randomUUID();
  const eventId = randomUUID();
  const base = { userId, type: 'booking_pending', channel: 'email', subject: 'Complete your payment', message: 'Hi,\n\nplease pay.', eventId, eventType: 'booking.created' };
  const parked = { ...base, id: randomUUID(), recipient: null, status: 'parked' as const, statusReason: 'waiting for the address' };
  const sent = { ...base, id: randomUUID(), recipient: 'ann@example.com', status: 'pending' as const, statusReason: null, createdAt: new Date('2026-01-02T03:04:05.678Z') };
  const ids = [parked.id, sent.id];
  await own.insert(db, parked);
  await own.insert(db, sent);
  await own.transition(db, sent.id, ['pending'], { status: 'sent', sentAt: new Date('2026-01-02T03:05:00.001Z') });

  await copyTo('legacy', ids);
  for (const id of ids) t.deepEqual(await legacy.findById(db, id), await own.findById(db, id), `notification ${id}`);
  t.deepEqual(await differences(ids), []);
  const legacyAfterFirst = await xmins('public.notifications', ids);
  await copyTo('legacy', ids);
  t.deepEqual(await xmins('public.notifications', ids), legacyAfterFirst, 'the second copy rewrote no legacy row');
});

test.serial('while a dual-write lease is live, the old system writing the shared table straight is copied too', async (t) => {
  await fx.admin.raw(
    `INSERT INTO migration.dual_write_leases (module, instance, mode, phase, expires_at)
     VALUES ('notification', 'mapping-test', 'inline', 'DUAL_WRITE', now() + interval '1 hour')`,
  );
  try {
    const ids = await writeTheOldWay(randomUUID());
    await fx.databases.forRole('legacy', 'public').table('notifications').whereIn('id', ids.slice(0, 2)).update({ status: 'failed' });
    for (const id of ids) t.deepEqual(await own.findById(db, id), await legacy.findById(db, id), `notification ${id}`);
    t.deepEqual(await differences(ids), []);
  } finally {
    await fx.admin.raw(`DELETE FROM migration.dual_write_leases WHERE instance = 'mapping-test'`);
  }
});
