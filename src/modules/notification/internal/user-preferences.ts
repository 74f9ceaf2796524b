import type { Db, Knex } from '../../../platform/db.ts';

export type PreferenceSource = 'user.created' | 'user.updated' | 'booking.created';

export interface UserPreferences {
  userId: string;
  email: string | null;
  fullName: string | null;
  phone: string | null;
  emailEnabled: boolean;
  /** notification types the user does not want by email */
  optOuts: string[];
  source: PreferenceSource;
  /** timestamp of the user.* event the row reflects (older events do not overwrite newer ones) */
  sourceEventAt: Date;
}

interface Row {
  user_id: string;
  email: string | null;
  full_name: string | null;
  phone: string | null;
  email_enabled: boolean;
  opt_outs: string[];
  source: PreferenceSource;
  source_event_at: Date;
}

const toRecord = (r: Row): UserPreferences => ({
  userId: r.user_id,
  email: r.email,
  fullName: r.full_name,
  phone: r.phone,
  emailEnabled: r.email_enabled,
  optOuts: r.opt_outs,
  source: r.source,
  sourceEventAt: r.source_event_at,
});

export interface UserChanges {
  email?: string | undefined;
  fullName?: string | null | undefined;
  phone?: string | null | undefined;
  emailEnabled?: boolean | undefined;
  optOuts?: string[] | undefined;
}

const columns = (c: UserChanges): Partial<Row> => ({
  ...(c.email !== undefined ? { email: c.email.trim().toLowerCase() } : {}),
  ...(c.fullName !== undefined ? { full_name: c.fullName } : {}),
  ...(c.phone !== undefined ? { phone: c.phone } : {}),
  ...(c.emailEnabled !== undefined ? { email_enabled: c.emailEnabled } : {}),
  ...(c.optOuts !== undefined ? { opt_outs: [...new Set(c.optOuts)] } : {}),
});

/**
 * notifications.user_preferences: the module's copy of what it needs to know about a user, built from
 * user.created / user.updated (seed 002 §8.2) — never read from the auth schema. Events may arrive out of
 * order (retries): a user.* event older than the one the row reflects changes nothing, except that
 * user.created still fills fields nobody set. An address taken from booking.created only fills a gap and
 * yields to any user.* event.
 */
export function createUserPreferences(schema = 'notifications') {
  const table = (db: Db) => db.withSchema(schema).table<Row>('user_preferences');

  async function lock(trx: Knex.Transaction, userId: string): Promise<Row | undefined> {
    return (await table(trx).where({ user_id: userId }).forUpdate().first()) as Row | undefined;
  }

  async function insertOrLock(trx: Knex.Transaction, row: Partial<Row> & Pick<Row, 'user_id' | 'source' | 'source_event_at'>): Promise<{ inserted?: Row; existing?: Row }> {
    const [inserted] = (await table(trx).insert(row).onConflict('user_id').ignore().returning('*')) as Row[];
    if (inserted) return { inserted };
    return { existing: (await lock(trx, row.user_id))! };
  }

  async function update(trx: Knex.Transaction, userId: string, patch: Partial<Row>): Promise<Row> {
    const [row] = (await table(trx).where({ user_id: userId }).update({ ...patch, updated_at: new Date() } as Partial<Row>).returning('*')) as Row[];
    return row!;
  }

  const yieldsTo = (row: Row, at: Date) => row.source === 'booking.created' || row.source_event_at.getTime() <= at.getTime();

  return {
    async get(db: Db, userId: string): Promise<UserPreferences | undefined> {
      const row = (await table(db).where({ user_id: userId }).first()) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },

    /** user.created: the whole profile as of `at`. */
    async applyCreated(trx: Knex.Transaction, userId: string, profile: { email: string; fullName: string | null }, at: Date): Promise<UserPreferences> {
      const fields = columns({ email: profile.email, fullName: profile.fullName });
      const { inserted, existing } = await insertOrLock(trx, { user_id: userId, ...fields, source: 'user.created', source_event_at: at });
      if (inserted) return toRecord(inserted);
      const row = existing!;
      if (yieldsTo(row, at)) return toRecord(await update(trx, userId, { ...fields, source: 'user.created', source_event_at: at }));
      // a newer user.updated got here first: only fill what it did not set
      return toRecord(await update(trx, userId, { email: row.email ?? fields.email ?? null, full_name: row.full_name ?? fields.full_name ?? null }));
    },

    /** user.updated: the changed fields as of `at`; an older change than the row's is ignored. */
    async applyUpdated(trx: Knex.Transaction, userId: string, changes: UserChanges, at: Date): Promise<{ prefs: UserPreferences; applied: boolean }> {
      const fields = columns(changes);
      const { inserted, existing } = await insertOrLock(trx, { user_id: userId, ...fields, source: 'user.updated', source_event_at: at });
      if (inserted) return { prefs: toRecord(inserted), applied: true };
      const row = existing!;
      if (!yieldsTo(row, at)) return { prefs: toRecord(row), applied: false };
      return { prefs: toRecord(await update(trx, userId, { ...fields, source: 'user.updated', source_event_at: at })), applied: true };
    },

    /** booking.created's user_email: used only while no address is known. */
    async rememberBookingEmail(trx: Knex.Transaction, userId: string, email: string, at: Date): Promise<UserPreferences> {
      const normalized = email.trim().toLowerCase();
      const { inserted, existing } = await insertOrLock(trx, { user_id: userId, email: normalized, source: 'booking.created', source_event_at: at });
      if (inserted) return toRecord(inserted);
      if (existing!.email) return toRecord(existing!);
      return toRecord(await update(trx, userId, { email: normalized }));
    },

    /** user.deleted: forget the person. */
    async remove(trx: Knex.Transaction, userId: string): Promise<void> {
      await table(trx).where({ user_id: userId }).delete();
    },
  };
}

export type UserPreferencesStore = ReturnType<typeof createUserPreferences>;
