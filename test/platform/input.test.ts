import test from 'ava';
import { z } from 'zod';
import { calendarDay, emailAddress, httpUrl, instant, storableInput, text } from '../../src/platform/input.ts';
import { fitsEveryStore, moneyInput, MONEY_MAX } from '../../src/platform/money.ts';

const body = storableInput(z.object({ name: text(50), tags: z.array(z.string()).optional(), meta: z.record(z.string(), z.string()).optional() }));

test('storable text: a NUL or an unpaired surrogate anywhere in an input is an issue at its own path', (t) => {
  t.true(body.safeParse({ name: 'Ann', tags: ['a', 'b'], meta: { k: 'v' } }).success, 'control');
  const cases: [unknown, string][] = [
    [{ name: 'a\u0000b' }, 'name'],
    [{ name: 'ok', tags: ['fine', 'x\u0000'] }, 'tags.1'],
    [{ name: 'ok', meta: { k: 'half \ud800 a pair' } }, 'meta.k'],
    [{ name: 'ok', meta: { 'k\u0000': 'v' } }, 'meta.k\\u0000'],
    [{ name: '\udc00' }, 'name'],
  ];
  for (const [input, path] of cases) {
    const result = body.safeParse(input);
    t.false(result.success, path);
    t.deepEqual(result.error?.issues.map((i) => i.path.join('.')), [path]);
  }
  // the check runs before the schema's own: a bad value is named for what it is, not for its type
  t.regex(body.safeParse({ name: 'x\u0000' }).error!.issues[0]!.message, /NUL/);
});

test('storable text: a body nested thousands deep is walked without overflowing the stack', (t) => {
  let deep: unknown = 'leaf\u0000';
  for (let i = 0; i < 20_000; i++) deep = [deep];
  const result = storableInput(z.unknown()).safeParse(deep);
  t.false(result.success);
  t.is(result.error!.issues[0]!.path.length, 20_000);
});

test('email addresses: at most 64 characters before the @ and 254 in all', (t) => {
  t.true(emailAddress.safeParse(`${'a'.repeat(64)}@example.com`).success);
  t.false(emailAddress.safeParse(`${'a'.repeat(65)}@example.com`).success);
  const domain = `${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.${'g'.repeat(50)}.com`; // 237 characters
  t.true(emailAddress.safeParse(`${'a'.repeat(16)}@${domain}`).success, '254 characters');
  t.false(emailAddress.safeParse(`${'a'.repeat(17)}@${domain}`).success, '255 characters');
  t.is(emailAddress.parse('  Ann@Example.COM '), 'ann@example.com');
});

test('poster links: http(s) only', (t) => {
  for (const good of ['https://img.example.com/p.jpg', 'http://localhost:8080/p.png']) t.true(httpUrl.safeParse(good).success, good);
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'file:///etc/passwd', 'data:text/html,<script>1</script>', 'ftp://x.org/p', 'vbscript:x']) {
    t.false(httpUrl.safeParse(bad).success, bad);
  }
});

test('days and instants: year 0000 and 9999 are refused, real ones pass', (t) => {
  for (const bad of ['0000-01-01', '1869-12-31', '2200-01-01', '9999-12-31', '2025-02-30']) t.false(calendarDay.safeParse(bad).success, bad);
  for (const good of ['1895-12-28', '2026-02-28', '2199-12-31']) t.true(calendarDay.safeParse(good).success, good);
  for (const bad of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2200-01-01T00:00:00Z', '+010000-01-01T00:00:00Z']) t.false(instant.safeParse(bad).success, bad);
  t.true(instant.safeParse('2031-03-01T13:00:00+07:00').success);
});

test('money: amounts above what the narrowest column (DECIMAL(10,2)) holds are refused', (t) => {
  t.is(MONEY_MAX, '99999999.99');
  t.is(moneyInput.parse('99999999.99'), '99999999.99');
  for (const bad of ['100000000', 100000000, '999999999.99', '100000000.00']) t.false(moneyInput.safeParse(bad).success, String(bad));
  t.true(fitsEveryStore('99999999.99'));
  t.false(fitsEveryStore('199999999.98'));
});
