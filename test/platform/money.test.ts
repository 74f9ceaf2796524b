import test from 'ava';
import { fromMinor, moneyInput, normalizeMoney, sumMoney, toMinor } from '../../src/platform/money.ts';

test('amounts add exactly (no float drift)', (t) => {
  t.is(sumMoney(['0.10', '0.20']), '0.30');
  t.is(sumMoney(Array.from({ length: 10 }, () => '0.1')), '1.00');
  t.is(sumMoney(['120000.00', '120000.00', '99999.99']), '339999.99');
  t.is(toMinor('12.5'), 1250n);
  t.is(fromMinor(5n), '0.05');
  t.is(normalizeMoney('120000'), '120000.00');
});

test('request amounts: numbers and strings with at most two decimals, normalised', (t) => {
  t.is(moneyInput.parse(120000), '120000.00');
  t.is(moneyInput.parse('99.9'), '99.90');
  t.is(moneyInput.parse(12.5), '12.50');
  for (const bad of [1.234, '-1', '1e3', '', 'abc', 12345678901, null]) t.false(moneyInput.safeParse(bad).success, String(bad));
});
