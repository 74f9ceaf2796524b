import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import { EmailTakenError } from '../../../src/modules/auth/internal/errors.ts';
import type { UserRecord, UserStore } from '../../../src/modules/auth/internal/user-store.ts';

export interface StoreFixture {
  store: UserStore;
  db: Knex;
}

const email = () => `c-${randomUUID().slice(0, 8)}@example.com`;

/** One behavioural contract for every UserStore implementation (legacy shared table, own schema). */
export function userStoreContract(test: TestFn, name: string, fixture: () => StoreFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: StoreFixture) => Promise<void>) =>
    test(`${name}: ${title}`, (tc) => fn(tc, fixture()));
  // counting must not race the other tests' inserts: serial tests run before the concurrent ones
  const serial = (title: string, fn: (t: ExecutionContext, f: StoreFixture) => Promise<void>) =>
    test.serial(`${name}: ${title}`, (tc) => fn(tc, fixture()));

  t('insert then find by id and by email (case-insensitively)', async (tc, { store, db }) => {
    const id = randomUUID();
    const address = email();
    const created = await store.insert(db, { id, email: address.toUpperCase(), fullName: 'Ann', passwordHash: 'h1', role: 'user' });
    tc.is(created.id, id);
    tc.is(created.email, address);
    tc.is(created.role, 'user');
    tc.true(created.isActive);
    tc.true(created.createdAt instanceof Date);
    tc.is((await store.findById(db, id))?.email, address);
    tc.is((await store.findByEmail(db, address.toUpperCase()))?.id, id);
    tc.is(await store.findByEmail(db, email()), undefined);
    tc.is(await store.findById(db, randomUUID()), undefined);
  });

  t('a second account with the same email (any case) is EmailTakenError', async (tc, { store, db }) => {
    const address = email();
    await store.insert(db, { id: randomUUID(), email: address, fullName: null, passwordHash: 'h', role: 'user' });
    await tc.throwsAsync(
      store.insert(db, { id: randomUUID(), email: address.toUpperCase(), fullName: null, passwordHash: 'h', role: 'user' }),
      { instanceOf: EmailTakenError },
    );
  });

  t('updatePasswordHash and updateRole change only what they say', async (tc, { store, db }) => {
    const id = randomUUID();
    await store.insert(db, { id, email: email(), fullName: 'Bo', passwordHash: 'old', role: 'user' });
    await store.updatePasswordHash(db, id, 'new');
    const promoted = await store.updateRole(db, id, 'admin');
    tc.is(promoted?.role, 'admin');
    const row = await store.findById(db, id);
    tc.is(row?.passwordHash, 'new');
    tc.is(row?.fullName, 'Bo');
    tc.is(await store.updateRole(db, randomUUID(), 'admin'), undefined);
  });

  t('upsert writes a whole row keyed by id, preserving timestamps (dual-write and backfill use it)', async (tc, { store, db }) => {
    const row: UserRecord = {
      id: randomUUID(),
      email: email(),
      fullName: 'Copied',
      passwordHash: '$2b$10$abcdefghijklmnopqrstuu',
      role: 'admin',
      isActive: false,
      createdAt: new Date('2024-01-02T03:04:05.000Z'),
      updatedAt: new Date('2024-02-03T04:05:06.000Z'),
    };
    await store.upsert(db, row);
    tc.deepEqual(await store.findById(db, row.id), row);
    await store.upsert(db, { ...row, fullName: 'Changed', updatedAt: new Date('2025-01-01T00:00:00.000Z') });
    tc.is((await store.findById(db, row.id))?.fullName, 'Changed');
  });

  serial('listAfter pages by id in order and count counts', async (tc, { store, db }) => {
    const before = await store.count(db);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) await store.insert(db, { id, email: email(), fullName: null, passwordHash: 'h', role: 'user' });
    tc.is(await store.count(db), before + 5);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.listAfter(db, after, 2);
      if (page.length === 0) break;
      tc.true(page.length <= 2);
      seen.push(...page.map((u) => u.id));
      after = page.at(-1)!.id;
    }
    tc.deepEqual(seen, [...seen].sort());
    for (const id of ids) tc.true(seen.includes(id));
  });

  t('writes inside a rolled-back transaction leave nothing', async (tc, { store, db }) => {
    const id = randomUUID();
    await db
      .transaction(async (trx) => {
        await store.insert(trx, { id, email: email(), fullName: null, passwordHash: 'h', role: 'user' });
        throw new Error('rollback');
      })
      .catch(() => undefined);
    tc.is(await store.findById(db, id), undefined);
  });
}
