import { dayLiteral, idOf, intArray, md5Of, pick, rnd, RND_RANGE, seconds } from './sql-hash.ts';
import {
  BRANCHES, CHAINS, EMAIL_DOMAINS, FIRST_NAMES, GENRES, LAST_NAMES, MIDDLE_NAMES, PLOTS, RATINGS, TITLE_ADJECTIVES,
  TITLE_NOUNS, TITLE_PLACES, TITLE_SEQUELS,
} from './word-lists.ts';

/**
 * The model of the legacy seed: how every row is derived from (seed, epoch, counts, index). The CTE
 * builders here are the single source of truth; each INSERT in legacy-statements.ts selects from them.
 *
 *  - theater t: layout rows A.. (8–18) × 10–20 seats; back two rows vip, a band before them premium;
 *    screens grouped five to a cinema complex (`<chain> <branch> - Screen n`).
 *  - showtime s = (theater, day, slot): 5 slots a day from DAYS_PAST days before the epoch to DAYS_AHEAD
 *    after; end_time = start + the movie's duration; price in VND by slot, weekend and theater tier.
 *  - booking b belongs to showtime s when cum[s] <= b < cum[s] + q[s] (the plan, booking-plan.ts); its j-th
 *    booking takes the first n (1–4) seats of 4-seat block (j + off[s]) mod cap[s] of the layout, so no two
 *    bookings of a showtime ever share a seat, whatever their status.
 *  - every seat of a booking is charged the showtime price (as the old booking service did), so
 *    total_price = price × seats.
 */
export interface SeedShape {
  seed: number;
  /** YYYY-MM-DD: "now" of the generated world (midnight UTC) */
  epoch: string;
  users: number;
  movies: number;
  theaters: number;
  bookings: number;
}

export const DAYS_PAST = 21;
export const DAYS_AHEAD = 7;
/** slot start, minutes after midnight: 10:00 13:15 16:30 19:45 23:00 (195 min apart ≥ longest film + jitter) */
const SLOT_MINUTES = [600, 795, 990, 1185, 1380];
const SLOT_PRICE_VND = [70_000, 80_000, 90_000, 110_000, 90_000];
const SLOT_DEMAND = [20, 30, 45, 60, 35];
export const SHOWTIMES_PER_THEATER = (DAYS_PAST + DAYS_AHEAD) * SLOT_MINUTES.length;
const SCREENS_PER_COMPLEX = 5;
/** a pending booking holds its seats this long (expires_at = created_at + hold) */
const HOLD_SECONDS = 900;

export const showtimeCount = (shape: SeedShape): number => shape.theaters * SHOWTIMES_PER_THEATER;

const epochOf = (shape: SeedShape) => dayLiteral(shape.epoch);

/** Layout of a theater from its hash `ht`. */
function layout(ht: string) {
  return { rows: `(8 + ${rnd(ht, 0)} % 11)`, perRow: `(10 + ${rnd(ht, 1)} % 11)`, tier: `(${rnd(ht, 2)} % 3)` };
}

export const theaterHash = (seed: number, t: string) => md5Of(seed, 'theater', t);

/** Name (`<chain> <branch> - Screen n`) and location of theater t, five screens to a complex. */
export function theaterNaming(shape: SeedShape, t: string) {
  const combos = CHAINS.length * BRANCHES.length;
  const c = `((${t}) / ${SCREENS_PER_COMPLEX})`;
  // complex c → a distinct (chain, branch) for the first `combos` complexes, the order shuffled by the seed
  const combo = `((${c} * 113 + ${shape.seed % combos}) % ${combos})`;
  const branch = `${combo} / ${CHAINS.length}`;
  return {
    name:
      `${pick(CHAINS, `${combo} % ${CHAINS.length}`)} || ' ' || ${pick(BRANCHES.map((b) => b[0]), branch)}` +
      ` || CASE WHEN ${c} >= ${combos} THEN ' ' || (${c} / ${combos} + 1) ELSE '' END` +
      ` || ' - Screen ' || ((${t}) % ${SCREENS_PER_COMPLEX} + 1)`,
    location: pick(BRANCHES.map((b) => `${b[1]}, ${b[2]}`), branch),
  };
}

/** CTE `th`: theaters lo..hi with layout, name and location. */
export function theaterCte(shape: SeedShape, lo: number, hi: number): string {
  const lay = layout('ht');
  const naming = theaterNaming(shape, 't');
  return `
  th0 AS MATERIALIZED (
    SELECT t, ${theaterHash(shape.seed, 't')} AS ht, ${idOf(shape.seed, 'theater', 't')} AS tid
    FROM generate_series(${lo}, ${hi}) AS t),
  th AS MATERIALIZED (
    SELECT th0.*, ${lay.rows} AS nrows, ${lay.perRow} AS per_row, ${naming.name} AS name, ${naming.location} AS location,
      ${epochOf(shape)} - interval '3 years' + ${seconds(`${rnd('ht', 3)} % (365 * 86400)`)} AS created_at
    FROM th0)`;
}

/** Seat type of row r (0-based) in a theater of n rows. */
export const seatTypeSql = (r: string, n: string) =>
  `CASE WHEN ${r} >= ${n} - 2 THEN 'vip' WHEN ${r} >= ${n} - 2 - greatest(2, ${n} / 4) THEN 'premium' ELSE 'standard' END`;

/** Movie attributes from its hash `h`. Duration is also recomputed by showtimes (end_time). */
export function movieColumns(h: string) {
  const genre = pick(GENRES, rnd(h, 1));
  const r2 = rnd(h, 2);
  const r3 = rnd(h, 3);
  const adj = pick(TITLE_ADJECTIVES, r3);
  const noun = pick(TITLE_NOUNS, `${r3} / 64`);
  return {
    duration: `(80 + ${rnd(h, 0)} % 101)`,
    genre,
    rating: pick(RATINGS, `${rnd(h, 1)} / 32`),
    title: `CASE ${r2} % 5
      WHEN 0 THEN 'The ' || ${adj} || ' ' || ${noun}
      WHEN 1 THEN ${noun} || ' of ' || ${pick(TITLE_PLACES, `${r3} / 4096`)}
      WHEN 2 THEN ${adj} || ' ' || ${noun}
      WHEN 3 THEN 'The ' || ${noun} || ' ' || ${pick(TITLE_SEQUELS, `${r3} / 4096`)}
      ELSE ${adj} || ' ' || ${noun} || ': ' || ${pick(TITLE_SEQUELS, `${r3} / 4096`)} END`,
    description: `'A ' || lower(${genre}) || ' film about ' || ${pick(PLOTS, `${r2} / 8`)} || '.'`,
  };
}

/**
 * CTE `st`: one row per showtime index in relation `src` (column `s`, other columns passed through).
 * Columns: s t d k m sid mid tid nrows per_row bpr lead cap off start_time duration price demand created_at.
 */
export function showtimeCtes(shape: SeedShape, src: string): string {
  const { seed } = shape;
  const per = SHOWTIMES_PER_THEATER;
  const slots = SLOT_MINUTES.length;
  const lay = layout('ht');
  // movie popularity is skewed towards low indexes (m = M·f², integer arithmetic so any machine agrees)
  const m = `((${rnd('h', 0)}::bigint * ${rnd('h', 0)} / ${RND_RANGE}) * ${shape.movies} / ${RND_RANGE})::int`;
  return `
  st0 AS MATERIALIZED (
    SELECT src.*, src.s / ${per} AS t, (src.s % ${per}) / ${slots} AS d, src.s % ${slots} AS k,
      ${md5Of(seed, 'showtime', 'src.s')} AS h, ${theaterHash(seed, `src.s / ${per}`)} AS ht
    FROM ${src} AS src),
  st1 AS MATERIALIZED (
    SELECT st0.*, ${lay.rows} AS nrows, ${lay.perRow} AS per_row, ${lay.tier} AS tier, ${m} AS m,
      ${epochOf(shape)} + (d - ${DAYS_PAST}) * interval '1 day' AS day
    FROM st0),
  st2 AS MATERIALIZED (
    SELECT st1.*, extract(isodow FROM day) >= 6 AS weekend, per_row / 4 AS bpr, (per_row % 4) / 2 AS lead,
      nrows * (per_row / 4) AS cap
    FROM st1),
  st AS MATERIALIZED (
    SELECT st2.*, ${idOf(seed, 'showtime', 's')} AS sid, ${idOf(seed, 'movie', 'm')} AS mid, ${idOf(seed, 'theater', 't')} AS tid,
      ${rnd('h', 1)} % cap AS off,
      day + (${intArray(SLOT_MINUTES)})[k + 1] * interval '1 minute' + ${seconds(`${rnd('h', 2)} % 4 * 300`)} AS start_time,
      ${movieColumns(md5Of(seed, 'movie', 'm')).duration} AS duration,
      ((${intArray(SLOT_PRICE_VND)})[k + 1] + CASE WHEN weekend THEN 15000 ELSE 0 END + tier * 15000)::numeric(10,2) AS price,
      least(100, greatest(10,
        ((${intArray(SLOT_DEMAND)})[k + 1] + CASE WHEN weekend THEN 20 ELSE 0 END
          + CASE WHEN m < greatest(1, ${shape.movies} / 10) THEN 20 ELSE 0 END + ${rnd('h', 3)} % 25)
        * CASE WHEN d >= ${DAYS_PAST} THEN ${8 + DAYS_PAST} - d ELSE 8 END / 8)) AS demand,
      day - interval '28 days' + ${seconds(`${rnd('h', 3)} / 32 % 86400`)} AS created_at
    FROM st2)`;
}

/**
 * CTE `bk`: bookings lo..hi of the showtimes in `st` (which must carry the plan columns cum and q).
 * Columns: b s t m sid bid uid n seat0 status total paid created_at expires_at updated_at start_time hb2 v0..v3.
 */
export function bookingCtes(shape: SeedShape, lo: number, hi: number): string {
  const { seed } = shape;
  const epoch = epochOf(shape);
  // r0..r3 and v0..v3: eight independent 28-bit integers per booking, parsed once
  const x = '(r0 / 100 % 100)';
  return `
  bk0 AS MATERIALIZED (
    SELECT st.s, st.t, st.m, st.sid, st.start_time, st.price, st.per_row, st.bpr, st.lead, st.cap, st.off,
      b, (b - st.cum)::int AS j, ${md5Of(seed, 'booking', 'b')} AS hb
    FROM st CROSS JOIN LATERAL generate_series(greatest(${lo}::bigint, st.cum), least(${hi}::bigint, st.cum + st.q - 1)) AS b),
  bk1 AS MATERIALIZED (
    SELECT bk0.*, md5(hb) AS hb2, ${rnd('hb', 0)} AS r0, ${rnd('hb', 1)} AS r1, ${rnd('hb', 2)} AS r2, ${rnd('hb', 3)} AS r3
    FROM bk0),
  bk2 AS MATERIALIZED (
    SELECT bk1.*, ${rnd('hb2', 0)} AS v0, ${rnd('hb2', 1)} AS v1, ${rnd('hb2', 2)} AS v2, ${rnd('hb2', 3)} AS v3,
      CASE WHEN r0 % 100 < 20 THEN 1 WHEN r0 % 100 < 65 THEN 2 WHEN r0 % 100 < 80 THEN 3 ELSE 4 END AS n,
      CASE WHEN start_time <= ${epoch}
           THEN CASE WHEN ${x} < 78 THEN 'confirmed' WHEN ${x} < 90 THEN 'cancelled' ELSE 'expired' END
           ELSE CASE WHEN ${x} < 74 THEN 'confirmed' WHEN ${x} < 76 THEN 'pending' WHEN ${x} < 88 THEN 'cancelled'
                     ELSE 'expired' END END AS status,
      1 + r2 % CASE WHEN r1 % 10 < 3 THEN greatest(1, ${shape.users} / 20) ELSE ${shape.users} END AS u
    FROM bk1),
  bk3 AS MATERIALIZED (
    SELECT bk2.*, ${idOf(seed, 'booking', 'b')} AS bid, ${idOf(seed, 'user', 'u')} AS uid, price * n AS total,
      ((j + off) % cap / bpr) * per_row + lead + ((j + off) % cap % bpr) * 4 AS seat0,
      status = 'confirmed' OR (status = 'cancelled' AND v1 % 100 < 60) AS paid,
      CASE WHEN status = 'pending' THEN ${epoch} - ${seconds('60 + r3 % 780')}
           ELSE least(start_time - ${seconds('1200 + r1 / 10 % (14 * 86400)')},
                      ${epoch} - ${seconds('1200 + r3 / 1000 % 3600')}) END AS created_at
    FROM bk2),
  bk AS MATERIALIZED (
    SELECT bk3.*, created_at + ${seconds(String(HOLD_SECONDS))} AS expires_at,
      CASE status
        WHEN 'confirmed' THEN created_at + ${seconds('30 + v0 % 570')}
        WHEN 'cancelled' THEN least(created_at + ${seconds('600 + v0 % 86400')},
                                    least(start_time, ${epoch}) - interval '60 seconds')
        WHEN 'expired' THEN created_at + ${seconds(String(HOLD_SECONDS))}
        ELSE created_at END AS updated_at
    FROM bk3)`;
}

/** CTE `u`: users lo..hi (1-based) with names, email domain and sign-up time. */
export function userCtes(shape: SeedShape, lo: number, hi: number): string {
  const { seed } = shape;
  return `
  u0 AS MATERIALIZED (SELECT i, ${md5Of(seed, 'user', 'i')} AS h FROM generate_series(${lo}, ${hi}) AS i),
  u AS MATERIALIZED (
    SELECT i, h, ${idOf(seed, 'user', 'i')} AS uid,
      ${pick(FIRST_NAMES, rnd('h', 0))} AS fn, ${pick(MIDDLE_NAMES, rnd('h', 1))} AS mid,
      ${pick(LAST_NAMES, `${rnd('h', 1)} / 16`)} AS ln, ${pick(EMAIL_DOMAINS, rnd('h', 2))} AS dom,
      ${epochOf(shape)} - interval '40 days' - ${seconds(`${rnd('h', 3)} % (700 * 86400)`)} AS created_at
    FROM u0)`;
}
