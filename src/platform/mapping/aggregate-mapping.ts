import type { ModuleName } from '../config.ts';

/**
 * How a module declares, once, where each of its aggregates lives on the old shared tables and in its own
 * schema (ADR 0050). The declaration is data: `src/migration/` turns it into SQL that loads an aggregate
 * from either side as one canonical JSON document, writes such a document into either side, and keeps
 * the two sides equal (dual-write triggers, backfill, shadow reads, reconciliation, repair). A field added
 * to a table is taught here and nowhere else.
 *
 * Canonical documents use the own schema's column names (snake_case). Values are normalised in SQL so
 * that equal data gives byte-equal documents on both sides: uuids and text as strings, money as a decimal
 * string with two places, timestamps as ISO-8601 UTC with microseconds, dates as YYYY-MM-DD.
 */

export type Side = 'legacy' | 'own';
export const SIDES: readonly Side[] = ['legacy', 'own'];
export const otherSide = (side: Side): Side => (side === 'legacy' ? 'own' : 'legacy');

/**
 * Column types as stored. `timestamp` is the old tables' `timestamp without time zone` holding UTC;
 * `timestamptz` the own schema's. `money` is NUMERIC; `char` is CHAR(n) (trailing blanks trimmed).
 */
export type FieldType = 'uuid' | 'text' | 'char' | 'int' | 'bool' | 'money' | 'timestamp' | 'timestamptz' | 'date' | 'jsonb';

export interface FieldSpec {
  /** name in the canonical document */
  field: string;
  type: FieldType;
  /** the column it is stored in on this side; `null`: not stored (derived on read only) */
  column?: string | null;
  /**
   * SQL giving the value on read (row alias `t`, child alias `c`); default: the column. This is where a
   * side fills what it lacks, e.g. `COALESCE(t.role, 'user')` for rows the old system wrote without one.
   * The generated functions run with an empty search_path: qualify every other table with its schema.
   * A value derived from another table is copied when the aggregate's own rows change, not when that
   * table changes.
   */
  read?: string;
  /**
   * SQL giving the column's value on write from the document `d` (jsonb); default: `d->>'field'` cast
   * to the column type. `$value` in it stands for that default.
   */
  write?: string;
  /** written when the row is inserted, never overwritten afterwards */
  insertOnly?: boolean;
}

/**
 * A column this side writes that is not a document field: something the side derives itself, e.g. the
 * old showtimes' available_seats counter, or own booking_seats.active from the booking's status.
 */
export interface ExtraColumn {
  column: string;
  /** SQL for the value from the document `d` (children: the element `e` and its aggregate's `d`) */
  write: string;
  /**
   * On a row that exists already: `same` (default) writes `write` again, `keep` leaves the column alone,
   * anything else is the SQL of the new value — for a root table `t` is the current row and `EXCLUDED`
   * the proposed one; for a child table `c` is the current row (and `e`, `d` the documents).
   */
  onUpdate?: 'same' | 'keep' | string;
}

/**
 * Rows of another table that belong to the aggregate, as an array field of the document (ordered). The
 * table needs an `id` primary key (the capture trigger pairs old and new rows by it).
 */
export interface ChildSpec {
  field: string;
  table: string;
  /** column holding the aggregate's key */
  parentKey: string;
  /** document fields that identify one child within its aggregate (how a write matches existing rows) */
  identity: string[];
  /** SQL ordering the array (child alias `c`), so documents compare and hash deterministically */
  orderBy: string;
  /** child field values on write come from the element `e` (and the aggregate's document `d`) */
  fields: FieldSpec[];
  extraColumns?: ExtraColumn[];
  /** columns of the table that are not part of the document: an update touching only these is not copied */
  ignoredColumns?: string[];
}

export interface SideSpec {
  /** the aggregate's root table; its key column is `id` (UUID) */
  table: string;
  fields: FieldSpec[];
  extraColumns?: ExtraColumn[];
  /** columns of the table that are not part of the document: an update touching only these is not copied */
  ignoredColumns?: string[];
  children?: ChildSpec[];
  /**
   * Statements run after every write of documents into this side, each with the written documents as
   * `docs(d jsonb)` in scope — e.g. open the own schema's seat_availability rows of a new showtime.
   */
  afterWrite?: string[];
}

export interface AggregateMapping {
  module: ModuleName;
  /** e.g. `bookings`; unique within the module */
  name: string;
  /** one line for operators: what one document is */
  description: string;
  legacy: SideSpec;
  own: SideSpec;
  /**
   * Fields present in the documents that are not compared, each with the reason (e.g. a projection that
   * the side keeps eventually consistent). Everything else is compared; a field one side cannot hold is
   * added to that side by a migration rather than silently left out.
   */
  notCompared?: Record<string, string>;
  /**
   * Other aggregates of the module this one points at (document field → aggregate). Copying a document
   * to a side first brings along any referenced aggregate that side does not have yet, so a showtime can
   * be copied before its movie has been backfilled.
   */
  references?: { field: string; aggregate: string }[];
}

/** A table the module writes in its own schema only: it has no legacy counterpart, so nothing moves. */
export interface OwnOnlyTable {
  table: string;
  why: string;
}

export interface ModuleMapping {
  module: ModuleName;
  /** the module's schema on the own side; the legacy side is the configured LEGACY_SCHEMA */
  ownSchema: string;
  /** in dependency order: an aggregate's references come before it (backfill runs in this order) */
  aggregates: AggregateMapping[];
  ownOnly: OwnOnlyTable[];
}

/** Field constructors, so a declaration reads as a column list: `f.text('email')`, `f.money('amount', { column: 'total' })`. */
type FieldOptions = Omit<FieldSpec, 'field' | 'type'>;
const make = (type: FieldType) => (field: string, options: FieldOptions = {}): FieldSpec => ({ field, type, ...options });

export const f = {
  uuid: make('uuid'),
  text: make('text'),
  char: make('char'),
  int: make('int'),
  bool: make('bool'),
  money: make('money'),
  timestamp: make('timestamp'),
  timestamptz: make('timestamptz'),
  date: make('date'),
  jsonb: make('jsonb'),
};

/** the epoch, for old rows whose timestamps are NULL (what the stores show for them too) */
export const EPOCH_SQL = `'1970-01-01 00:00:00'::timestamp`;
