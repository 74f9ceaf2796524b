import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import type { NewNotification, NotificationRecord, NotificationStore } from '../../../src/modules/notification/internal/types.ts';

export interface StoreFixture {
  store: NotificationStore;
  db: Knex;
  /** a user id notifications may reference (the legacy table's foreign key wants a legacy user) */
  makeUser(): Promise<string>;
}

const draft = (userId: string, over: Partial<NewNotification> = {}): NewNotification => ({
  id: randomUUID(),
  userId,
  type: 'booking_confirmed',
  channel: 'email',
  recipient: 'ann@example.com',
  subject: 'Your tickets: Dune',
  message: 'Hi Ann,\n\nyour booking is confirmed.',
  status: 'pending',
  statusReason: null,
  eventId: randomUUID(),
  eventType: 'booking.confirmed',
  ...over,
});

/** One behavioural contract for every NotificationStore (legacy shared table, own schema). */
export function notificationStoreContract(test: TestFn, name: string, fixture: () => StoreFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: StoreFixture) => Promise<void>) => test(`${name}: ${title}`, (tc) => fn(tc, fixture()));
  const serial = (title: string, fn: (t: ExecutionContext, f: StoreFixture) => Promise<void>) => test.serial(`${name}: ${title}`, (tc) => fn(tc, fixture()));

  t('insert then find; a second insert of the same id changes nothing and says so', async (tc, { store, db, makeUser }) => {
    const n = draft(await makeUser());
    const first = await store.insert(db, n);
    tc.true(first.created);
    tc.like(first.record, { id: n.id, userId: n.userId, type: n.type, channel: 'email', recipient: n.recipient, subject: n.subject, message: n.message, status: 'pending', eventId: n.eventId, eventType: n.eventType, sentAt: null });
    tc.true(first.record.createdAt instanceof Date);
    const again = await store.insert(db, { ...n, subject: 'different', status: 'failed' });
    tc.false(again.created);
    tc.is(again.record.subject, n.subject);
    tc.is(again.record.status, 'pending');
    tc.deepEqual(await store.findById(db, n.id), first.record);
    tc.is(await store.findById(db, randomUUID()), undefined);
  });

  t('transition moves only from the named statuses and sets what it is given', async (tc, { store, db, makeUser }) => {
    const n = draft(await makeUser(), { status: 'parked', recipient: null, statusReason: 'waiting' });
    await store.insert(db, n);
    tc.is(await store.transition(db, n.id, ['pending'], { status: 'sent' }), undefined, 'not pending: no move');
    const released = await store.transition(db, n.id, ['parked'], { status: 'pending', recipient: 'bo@example.com', statusReason: null });
    tc.like(released, { status: 'pending', recipient: 'bo@example.com', statusReason: null });
    const sentAt = new Date('2026-02-03T04:05:06.000Z');
    const sent = await store.transition(db, n.id, ['pending'], { status: 'sent', sentAt });
    tc.is(sent?.status, 'sent');
    tc.deepEqual(sent?.sentAt, sentAt);
    tc.is(sent?.recipient, 'bo@example.com', 'unnamed fields are kept');
    tc.true(sent!.updatedAt.getTime() >= released!.updatedAt.getTime());
    tc.is(await store.transition(db, randomUUID(), ['pending'], { status: 'sent' }), undefined);
  });

  t("listForUser: only that user's, newest first, paged, with the total", async (tc, { store, db, makeUser }) => {
    const [user, other] = [await makeUser(), await makeUser()];
    const base = Date.parse('2026-03-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const n = draft(user, { createdAt: new Date(base + i * 60_000), subject: `n${i}` });
      ids.push(n.id);
      await store.insert(db, n);
    }
    await store.insert(db, draft(other));
    const page1 = await store.listForUser(db, user, { limit: 2, offset: 0 });
    tc.is(page1.total, 5);
    tc.deepEqual(page1.items.map((n) => n.subject), ['n4', 'n3']);
    const page3 = await store.listForUser(db, user, { limit: 2, offset: 4 });
    tc.deepEqual(page3.items.map((n) => n.subject), ['n0']);
    tc.true(page1.items.every((n) => n.userId === user));
    tc.is((await store.listForUser(db, randomUUID(), { limit: 10, offset: 0 })).total, 0);
  });

  t('listParkedForUser and listStale find what waits, only rows created from events', async (tc, { store, db, makeUser }) => {
    const user = await makeUser();
    const parked = draft(user, { status: 'parked', recipient: null });
    const pending = draft(user);
    const old = draft(user, { eventId: null, eventType: null });
    for (const n of [parked, pending, old]) await store.insert(db, n);
    tc.deepEqual((await store.listParkedForUser(db, user)).map((n) => n.id), [parked.id]);
    const future = new Date(Date.now() + 60_000);
    const stalePending = (await store.listStale(db, 'pending', future, 1000)).map((n) => n.id);
    tc.true(stalePending.includes(pending.id));
    tc.false(stalePending.includes(old.id), 'a row without event_id (the old system wrote it) is never picked up');
    tc.false(stalePending.includes(parked.id));
    tc.true((await store.listStale(db, 'parked', future, 1000)).some((n) => n.id === parked.id));
    tc.false((await store.listStale(db, 'pending', new Date(Date.now() - 60_000), 1000)).some((n) => n.id === pending.id), 'not stale yet');
    await store.touch(db, pending.id);
    tc.true((await store.findById(db, pending.id))!.updatedAt.getTime() > Date.now() - 5_000);
  });

  t('upsert writes a whole row keyed by id, preserving timestamps (dual-write and backfill use it)', async (tc, { store, db, makeUser }) => {
    const row: NotificationRecord = {
      ...draft(await makeUser(), { status: 'sent' }),
      sentAt: new Date('2025-01-02T03:04:06.000Z'),
      createdAt: new Date('2025-01-02T03:04:05.000Z'),
      updatedAt: new Date('2025-01-02T03:04:06.000Z'),
    };
    await store.upsert(db, row);
    tc.deepEqual(await store.findById(db, row.id), row);
    await store.upsert(db, { ...row, status: 'failed', statusReason: 'bounced' });
    tc.like(await store.findById(db, row.id), { status: 'failed', statusReason: 'bounced' });
  });

  t('lockById holds the row until the transaction ends', async (tc, { store, db, makeUser }) => {
    const n = draft(await makeUser());
    await store.insert(db, n);
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = db.transaction(async (trx) => {
      tc.is((await store.lockById(trx, n.id))?.id, n.id);
      order.push('locked');
      await held;
      await store.transition(trx, n.id, ['pending'], { status: 'sent', sentAt: new Date() });
      order.push('first done');
    });
    while (order.length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = db.transaction(async (trx) => {
      const seen = await store.lockById(trx, n.id);
      order.push(`second saw ${seen?.status}`);
    });
    await new Promise((r) => setTimeout(r, 100));
    release();
    await Promise.all([first, second]);
    tc.deepEqual(order, ['locked', 'first done', 'second saw sent']);
    tc.is(await store.lockById(db, randomUUID()), undefined);
  });

  serial('listAfter pages by id in order and count counts', async (tc, { store, db, makeUser }) => {
    const before = await store.count(db);
    const user = await makeUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const n = draft(user);
      ids.push(n.id);
      await store.insert(db, n);
    }
    tc.is(await store.count(db), before + 5);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.listAfter(db, after, 2);
      if (page.length === 0) break;
      tc.true(page.length <= 2);
      seen.push(...page.map((n) => n.id));
      after = page.at(-1)!.id;
    }
    tc.deepEqual(seen, [...seen].sort());
    for (const id of ids) tc.true(seen.includes(id));
  });

  t('writes inside a rolled-back transaction leave nothing', async (tc, { store, db, makeUser }) => {
    const n = draft(await makeUser());
    await db.transaction(async (trx) => {
      await store.insert(trx, n);
      throw new Error('rollback');
    }).catch(() => undefined);
    tc.is(await store.findById(db, n.id), undefined);
  });
}
