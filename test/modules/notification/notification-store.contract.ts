import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import type { NotificationStore } from '../../../src/modules/notification/internal/notification-store.ts';
import type { NewNotification } from '../../../src/modules/notification/internal/types.ts';
import { backendPid, waitUntilBlockedBy } from '../../helpers/db.ts';

export interface StoreFixture {
  store: NotificationStore;
  db: Knex;
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

  t('insert then find; a second insert of the same id changes nothing and says so', async (tc, { store, db }) => {
    const n = draft(randomUUID());
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

  t('transition moves only from the named statuses and sets what it is given', async (tc, { store, db }) => {
    const n = draft(randomUUID(), { status: 'parked', recipient: null, statusReason: 'waiting' });
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

  t("listForUser: only that user's, newest first, paged, with the total", async (tc, { store, db }) => {
    const [user, other] = [randomUUID(), randomUUID()];
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

  t('listParkedForUser and listStale find what waits, only rows created from events', async (tc, { store, db }) => {
    const user = randomUUID();
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

  t('rows with equal timestamps list in id order (both stores answer a list alike)', async (tc, { store, db }) => {
    const user = randomUUID();
    const at = new Date('2026-04-01T10:00:00.000Z');
    const ns = [0, 1, 2].map(() => draft(user, { status: 'parked', recipient: null, createdAt: at }));
    for (const n of ns) await store.insert(db, n);
    const ids = ns.map((n) => n.id).sort();
    tc.deepEqual((await store.listParkedForUser(db, user)).map((n) => n.id), ids);
    tc.deepEqual((await store.listForUser(db, user, { limit: 10, offset: 0 })).items.map((n) => n.id), [...ids].reverse());
  });

  t('lockById holds the row until the transaction ends', async (tc, { store, db }) => {
    const n = draft(randomUUID());
    await store.insert(db, n);
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: (pid: number) => void;
    const firstPid = new Promise<number>((r) => (locked = r));
    const first = db.transaction(async (trx) => {
      const pid = await backendPid(trx);
      tc.is((await store.lockById(trx, n.id))?.id, n.id);
      order.push('locked');
      locked(pid);
      await held;
      await store.transition(trx, n.id, ['pending'], { status: 'sent', sentAt: new Date() });
      order.push('first done');
    });
    const pid = await firstPid;
    const second = db.transaction(async (trx) => {
      const seen = await store.lockById(trx, n.id);
      order.push(`second saw ${seen?.status}`);
    });
    await waitUntilBlockedBy(db, pid);
    release();
    await Promise.all([first, second]);
    tc.deepEqual(order, ['locked', 'first done', 'second saw sent']);
    tc.is(await store.lockById(db, randomUUID()), undefined);
  });

  t('writes inside a rolled-back transaction leave nothing', async (tc, { store, db }) => {
    const n = draft(randomUUID());
    const inserted: boolean[] = [];
    const rolledBack = db.transaction(async (trx) => {
      inserted.push((await store.insert(trx, n)).created);
      await store.transition(trx, n.id, ['pending'], { status: 'sent', sentAt: new Date() });
      throw new Error('planned rollback');
    });
    // the writes themselves must have worked: only the planned error may end the transaction
    await tc.throwsAsync(rolledBack, { message: 'planned rollback' });
    tc.deepEqual(inserted, [true]);
    tc.is(await store.findById(db, n.id), undefined);
  });
}
