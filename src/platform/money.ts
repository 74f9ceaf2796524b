import { z } from 'zod';

/**
 * Exact money: amounts travel as decimal strings with two places ("120000.00") and are added as integer
 * minor units (BigInt), never as floats. Postgres keeps them as NUMERIC.
 */
const DECIMAL = /^(\d{1,10})(?:\.(\d{1,2}))?$/;

export function isMoney(value: string): boolean {
  return DECIMAL.test(value);
}

/** "12.5" → 1250n. Throws RangeError on anything that is not a non-negative amount with ≤ 2 decimals. */
export function toMinor(amount: string): bigint {
  const m = DECIMAL.exec(amount.trim());
  if (!m) throw new RangeError(`not a money amount: ${amount}`);
  return BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

/** 1250n → "12.50" */
export function fromMinor(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Normalise a NUMERIC value as pg returns it ("120000", "120000.5") to two places. */
export const normalizeMoney = (amount: string | number): string => fromMinor(toMinor(String(amount)));

/**
 * The largest amount every store can hold: the legacy shared tables keep prices and totals as
 * DECIMAL(10,2) (8 integer digits), the narrowest money column of any store. A price above it, or a
 * booking total that adds up past it, is refused as input rather than overflowing the column (a 500).
 */
export const MONEY_MAX = '99999999.99';
const MONEY_MAX_MINOR = toMinor(MONEY_MAX);

/** Whether an amount (a valid money string) fits every store's money columns. */
export const fitsEveryStore = (amount: string): boolean => toMinor(amount) <= MONEY_MAX_MINOR;

export const sumMoney = (amounts: string[]): string => fromMinor(amounts.reduce((acc, a) => acc + toMinor(a), 0n));

/**
 * An amount in a request body: a JSON number or a decimal string, at most two decimals, normalised
 * to "123.45". (A JSON number is read from its shortest decimal form, so 12.5 is exactly "12.50".)
 */
export const moneyInput = z
  .union([z.string(), z.number()], { error: 'must be an amount like 120000 or "120000.00"' })
  .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
  .refine(isMoney, 'must be a non-negative amount with at most two decimals')
  .transform(normalizeMoney)
  .refine(fitsEveryStore, `must be at most ${MONEY_MAX}`);

export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like VND or USD');
