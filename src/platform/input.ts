import { z } from 'zod';

/**
 * The shapes HTTP inputs are built from, with the bounds every store can hold, and the one check every
 * input passes before its own schema (`storableInput`). Module schemas import these rather than
 * restating them, so a bound is taught once.
 */

/**
 * Text Postgres cannot store: U+0000 (text and jsonb refuse it, so it came back as a 500) and UTF-16
 * halves without their pair (they would be stored as U+FFFD, a silent change of what the client sent).
 */
function unstorable(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain a NUL character (U+0000)';
  if (!value.isWellFormed()) return 'must be well-formed Unicode (a UTF-16 surrogate is unpaired)';
  return undefined;
}

export const isStorableText = (value: string): boolean => unstorable(value) === undefined;

/**
 * Every string of an input — values and object keys, at any depth — must be storable text; each bad
 * one is an issue at its own path, so the 422 names the field. Walks iteratively: a body nested
 * thousands deep (bounded only by BODY_LIMIT) cannot overflow the stack.
 */
function checkStorable(input: unknown, issues: { path: PropertyKey[]; message: string }[]): void {
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: input, path: [] }];
  while (stack.length > 0 && issues.length < 20) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const message = unstorable(value);
      if (message) issues.push({ path, message });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (const [k] of entries) {
        const message = unstorable(k);
        // the key is named escaped (JSON-style): the bad character itself should not travel back
        if (message) issues.push({ path: [...path, JSON.stringify(k).slice(1, -1)], message: `key ${message}` });
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: [...path, entries[i]![0]] });
    }
  }
}

/**
 * `schema`, behind the storable-text check: what parseBody/parseQuery/parseParams apply to every input.
 * Built once per schema (zod schemas are immutable; building one per request was a tenth of a booking's CPU).
 */
export function storableInput<S extends z.ZodType>(schema: S) {
  let wrapped = storable.get(schema) as StorableInput<S> | undefined;
  if (!wrapped) {
    wrapped = buildStorableInput(schema);
    storable.set(schema, wrapped);
  }
  return wrapped;
}

const storable = new WeakMap<z.ZodType, unknown>();
type StorableInput<S extends z.ZodType> = ReturnType<typeof buildStorableInput<S>>;

function buildStorableInput<S extends z.ZodType>(schema: S) {
  return z
    .unknown()
    .check((ctx) => {
      const issues: { path: PropertyKey[]; message: string }[] = [];
      checkStorable(ctx.value, issues);
      for (const issue of issues) ctx.issues.push({ code: 'custom', input: ctx.value, path: issue.path, message: issue.message });
    })
    .pipe(schema);
}

/** Trimmed, non-empty text of at most `max` characters. */
export const text = (max: number) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const optionalText = (max: number) => text(max).nullable().optional();

export const uuid = z.uuid({ error: 'must be a UUID' });

/**
 * An email address as RFC 5321 bounds it: at most 64 characters before the @ and 254 in all (longer
 * ones cannot receive mail, and the legacy column is VARCHAR(255)). Lower-cased.
 */
export const emailAddress = z
  .string({ error: 'is required' })
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .refine((e) => e.lastIndexOf('@') <= 64, 'must have at most 64 characters before the @')
  .pipe(z.email({ error: 'is not a valid email address' }));

/** Only http(s): a poster link is rendered by clients, so javascript:, data: and file: are refused. */
export const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(500, 'must be at most 500 characters');

/**
 * Calendar days and instants a person could mean. Wider ranges pass ISO-8601 but not Postgres or the
 * pg driver (year 0000 was a 500), and nothing in a cinema's catalogue lies outside these.
 */
export const DAY_RANGE = { min: '1870-01-01', max: '2199-12-31' } as const;
export const INSTANT_RANGE = { min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z') } as const;

export const calendarDay = z.iso
  .date({ error: 'must be a date as YYYY-MM-DD' })
  .refine((d) => d >= DAY_RANGE.min && d <= DAY_RANGE.max, `must be between ${DAY_RANGE.min} and ${DAY_RANGE.max}`);

export const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-01-24T19:00:00Z' })
  .transform((s) => new Date(s))
  .refine((d) => d >= INSTANT_RANGE.min && d < INSTANT_RANGE.max, {
    message: `must be between ${INSTANT_RANGE.min.toISOString()} and ${INSTANT_RANGE.max.toISOString()}`,
    abort: true, // one reason per field: later checks (e.g. "in the future") are moot
  });

/** `limit` and `offset` of a list query string. */
export const pageQuery = {
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  offset: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(100_000, 'must be at most 100000').default(0),
};
