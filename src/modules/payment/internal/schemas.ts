import { createHash } from 'node:crypto';
import { z } from 'zod';
import { IdempotencyKeyRequiredError, InvalidIdempotencyKeyError } from './errors.ts';

/**
 * POST /api/v1/payments. Strict: the amount comes from the booking, so a body that tries to send one
 * (or anything else unknown) is refused with the field named rather than silently ignored.
 */
export const createPaymentBody = z.strictObject({
  booking_id: z.uuid(),
  payment_method: z.strictObject({
    type: z.literal('card'),
    token: z.string().min(1).max(255).regex(/^[\x21-\x7E]+$/, 'must be visible ASCII'),
  }),
});
export type CreatePaymentBody = z.infer<typeof createPaymentBody>;

export const paymentIdParams = z.object({ id: z.uuid() });

const KEY = /^[\x21-\x7E]{1,255}$/;

/** The Idempotency-Key header: required, 1–255 visible ASCII characters (Stripe's limit). */
export function parseIdempotencyKey(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') throw new IdempotencyKeyRequiredError();
  const key = raw.trim();
  if (!KEY.test(key)) throw new InvalidIdempotencyKeyError();
  return key;
}

/** JSON with object keys sorted at every level, so equal requests have one text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What "the same request" means for a key: method, path and the parsed body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(canonicalJson({ method, path, body })).digest('hex');
}
