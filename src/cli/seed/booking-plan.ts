/**
 * How many bookings each showtime gets. Showtime s has `cap[s]` booking slots (4-seat blocks of its
 * theater) and a demand weight 10–100 (slot, weekend, movie popularity, days until it starts). Bookings are
 * spread in proportion to cap × demand, never above cap, with exact integer arithmetic so the plan — and
 * every row derived from it — is the same on any machine. Booking b belongs to the showtime s with
 * cum[s] <= b < cum[s] + q[s].
 */
export interface BookingPlan {
  bookings: number;
  q: Int32Array;
  cum: Float64Array;
}

export class CapacityError extends Error {
  readonly slots: number;

  constructor(slots: number, wanted: number) {
    super(`the showtimes have room for ${slots} bookings, ${wanted} were asked for`);
    this.name = 'CapacityError';
    this.slots = slots;
  }
}

/** floor(a / b) for non-negative safe integers, exact even where a / b rounds up in floating point. */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  while (q * b > a) q--;
  while ((q + 1) * b <= a) q++;
  return q;
}

export function planBookings(bookings: number, caps: readonly number[], demands: readonly number[]): BookingPlan {
  const n = caps.length;
  let slots = 0;
  let weight = 0;
  for (let s = 0; s < n; s++) {
    slots += caps[s]!;
    weight += caps[s]! * demands[s]!;
  }
  if (bookings > slots) throw new CapacityError(slots, bookings);
  const q = new Int32Array(n);
  const fraction = new Float64Array(n);
  let placed = 0;
  if (weight > 0) {
    for (let s = 0; s < n; s++) {
      const share = bookings * caps[s]! * demands[s]!;
      const whole = floorDiv(share, weight);
      q[s] = Math.min(caps[s]!, whole);
      fraction[s] = share - whole * weight;
      placed += q[s]!;
    }
  }
  // the rounding remainder goes to the largest fractional shares (ties: lower index) ...
  const byFraction = Array.from({ length: n }, (_, s) => s).sort((x, y) => fraction[y]! - fraction[x]! || x - y);
  for (const s of byFraction) {
    if (placed >= bookings) break;
    if (q[s]! < caps[s]!) {
      q[s]!++;
      placed++;
    }
  }
  // ... and anything clipped at capacity one by one to showtimes with room
  while (placed < bookings) {
    for (let s = 0; s < n && placed < bookings; s++) {
      if (q[s]! < caps[s]!) {
        q[s]!++;
        placed++;
      }
    }
  }
  const cum = new Float64Array(n);
  let acc = 0;
  for (let s = 0; s < n; s++) {
    cum[s] = acc;
    acc += q[s]!;
  }
  return { bookings, q, cum };
}

export interface PlanSlice {
  s: number[];
  cum: number[];
  q: number[];
  /** first and last booking index the slice's statement generates (last < first: none) */
  lo: number;
  hi: number;
}

function slice(plan: BookingPlan, first: number, last: number, lo: number, hi: number): PlanSlice {
  const out: PlanSlice = { s: [], cum: [], q: [], lo, hi };
  for (let s = first; s <= last; s++) {
    out.s.push(s);
    out.cum.push(plan.cum[s]!);
    out.q.push(plan.q[s]!);
  }
  return out;
}

/** smallest s whose bookings end after booking b (cum[s] + q[s] > b) */
function showtimeOf(plan: BookingPlan, b: number): number {
  let lo = 0;
  let hi = plan.q.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (plan.cum[mid]! + plan.q[mid]! > b) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The showtimes holding bookings lo..hi. */
export function sliceForBookings(plan: BookingPlan, lo: number, hi: number): PlanSlice {
  return slice(plan, showtimeOf(plan, lo), showtimeOf(plan, hi), lo, hi);
}

/** Showtimes first..last and all of their bookings. */
export function sliceForShowtimes(plan: BookingPlan, first: number, last: number): PlanSlice {
  return slice(plan, first, last, plan.cum[first]!, plan.cum[last]! + plan.q[last]! - 1);
}
