import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import { EmailTakenError } from '../../../src/modules/auth/internal/errors.ts';
import type { UserStore } from '../../../src/modules/auth/internal/user-store.ts';

export interface StoreFixture {
  store: UserStore;
  db: Knex;
}

const email = () => `c-${randomUUID().slice(0, 8)}@example.com`;

/** One behavioural contract for every UserStore implementation (legacy shared table, own schema). */
export function userStoreContract(test: TestFn, name: string, fixture: () => StoreFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: StoreFixture) => Promise<void>) =>
    test(`${name}: ${title}`, (tc) => fn(tc, fixture()));

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

  t('writes inside a rolled-back transaction leave nothing', async (tc, { store, db }) => {
    const id = randomUUID();
    const inserted: string[] = [];
    const rolledBack = db.transaction(async (trx) => {
      inserted.push((await store.insert(trx, { id, email: email(), fullName: null, passwordHash: 'h', role: 'user' })).id);
      throw new Error('planned rollback');
    });
    // the insert itself must have worked: only the planned error may end the transaction
    await tc.throwsAsync(rolledBack, { message: 'planned rollback' });
    tc.deepEqual(inserted, [id]);
    tc.is(await store.findById(db, id), undefined);
  });

  t('findById inside a transaction reads on its connection (its own uncommitted insert), and not after it ended', async (tc, { store, db }) => {
    const id = randomUUID();
    let finished: Knex.Transaction | undefined;
    await db.transaction(async (trx) => {
      await store.insert(trx, { id, email: email(), fullName: 'Cy', passwordHash: 'h', role: 'user' });
      tc.is((await store.findById(trx, id))?.fullName, 'Cy');
      tc.is(await store.findById(db, id), undefined);
      finished = trx;
    });
    await tc.throwsAsync(store.findById(finished!, id), { message: /Transaction query already complete/ });
  });
}
