import test from 'ava';
import { createLegacyUserStore } from '../../../src/modules/auth/internal/legacy-user-store.ts';
import { createOwnUserStore } from '../../../src/modules/auth/internal/own-user-store.ts';
import { Databases } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { userStoreContract } from './user-store.contract.ts';

let db: TestDatabase;
let databases: Databases;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 4, DB_ROLE_PREFIX: 'boxoffice_' });
});
test.after.always(async () => {
  await databases?.closeAll();
  await db?.drop();
});

// both run as the auth module's role, as in production
userStoreContract(test, 'legacy store (public.users)', () => ({ store: createLegacyUserStore('public'), db: databases.forModule('auth') }));
userStoreContract(test, 'own store (auth.users)', () => ({ store: createOwnUserStore(), db: databases.forModule('auth') }));
