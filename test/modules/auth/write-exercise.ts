import { randomUUID } from 'node:crypto';
import { createLegacyUserStore } from '../../../src/modules/auth/internal/legacy-user-store.ts';
import { createOwnUserStore } from '../../../src/modules/auth/internal/own-user-store.ts';
import { USER_STORE_METHODS, type UserStore } from '../../../src/modules/auth/internal/user-store.ts';
import type { WriteExercise } from '../../migration/write-exercise.ts';

/** Every write of auth's user store, through the routed store (test/migration/write-coverage.test.ts). */
export const writeExercises: WriteExercise[] = [
  {
    module: 'auth',
    store: ({ legacySchema }) => ({ module: 'auth', name: 'users', legacy: createLegacyUserStore(legacySchema), own: createOwnUserStore(), methods: USER_STORE_METHODS }),
    async exercise(store, db) {
      const users = store as UserStore;
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const [i, id] of ids.entries()) {
        await users.insert(db, { id, email: `w${i}-${id.slice(0, 6)}@example.com`, fullName: i === 2 ? null : `Writer ${i}`, passwordHash: `h${i}`, role: 'user' });
      }
      await users.updatePasswordHash(db, ids[0]!, 'rehashed');
      await users.updateRole(db, ids[1]!, 'admin');
      // inside a caller's transaction too: the copy commits with it
      await db.transaction(async (trx) => {
        await users.updateRole(trx, ids[2]!, 'admin');
        await users.updatePasswordHash(trx, ids[2]!, 'in-transaction');
      });
    },
  } satisfies WriteExercise<UserStore> as WriteExercise,
];
