import type { Logger } from '../../../platform/logger.ts';
import type { Redis } from '../../../platform/redis.ts';

/**
 * All-or-nothing per-seat holds: SET NX PX on each seat key in the (sorted) order given; at the first
 * seat already held, the keys set so far are deleted again and the indexes of the held seats from there
 * on are returned. Atomic (one script), so no request ever owns part of its seats.
 */
const HOLD = `
for i = 1, #KEYS do
  if not redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
    for j = 1, i - 1 do redis.call('DEL', KEYS[j]) end
    local taken = {}
    for j = i, #KEYS do
      if redis.call('EXISTS', KEYS[j]) == 1 then taken[#taken + 1] = j end
    end
    return taken
  end
end
return {}`;

/** Delete each key only while it still holds our token (never someone else's later hold). */
const RELEASE = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n`;

export type HoldResult = { ok: true; degraded: boolean } | { ok: false; taken: string[] };

/**
 * The Redis fast path in front of the booking stores (ADR 0011). Two strategies:
 *  - per seat: `lock:seat:{<showtime>}:<seat>` = booking id, kept for the booking's hold time, released
 *    (token-checked) when the request fails or the booking is cancelled or expires;
 *  - whole showtime (the old system's): `lock:showtime:<showtime>` for the duration of the request.
 * Redis only turns conflicts away early; the stores' database checks keep the invariant. So when Redis
 * cannot be reached the answer is "go ahead" (degraded) rather than an error: Postgres decides alone.
 */
export class SeatHolds {
  private lastWarn = 0;

  private readonly redis: Redis | undefined;
  private readonly prefix: string;
  private readonly logger: Logger;

  /** without Redis (BACKEND=postgres, ADR 0078) there is no fast path: every hold is "go ahead", Postgres decides */
  constructor(options: { redis: Redis | undefined; keyPrefix: string; logger: Logger }) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix;
    this.logger = options.logger;
  }

  /** the `{showtime}` hash tag keeps one showtime's seat keys in one cluster slot (multi-key script) */
  seatKey(showtimeId: string, seatId: string): string {
    return `${this.prefix}lock:seat:{${showtimeId}}:${seatId}`;
  }

  showtimeKey(showtimeId: string): string {
    return `${this.prefix}lock:showtime:${showtimeId}`;
  }

  private degraded(err: unknown, what: string): void {
    const now = Date.now();
    if (now - this.lastWarn > 5_000) {
      this.lastWarn = now;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err), what }, 'redis unavailable for seat holds; the database check alone decides');
    }
  }

  async holdSeats(showtimeId: string, seatIds: string[], token: string, ttlMs: number): Promise<HoldResult> {
    if (!this.redis) return { ok: true, degraded: false };
    const sorted = [...seatIds].sort();
    try {
      const taken = (await this.redis.eval(HOLD, {
        keys: sorted.map((s) => this.seatKey(showtimeId, s)),
        arguments: [token, String(Math.max(1, Math.ceil(ttlMs)))],
      })) as number[];
      return taken.length === 0 ? { ok: true, degraded: false } : { ok: false, taken: taken.map((i) => sorted[i - 1]!) };
    } catch (err) {
      this.degraded(err, 'hold');
      return { ok: true, degraded: true };
    }
  }

  /** Release the seats this token holds; returns how many it still held. Never throws. */
  async releaseSeats(showtimeId: string, seatIds: string[], token: string): Promise<number> {
    if (seatIds.length === 0 || !this.redis) return 0;
    try {
      return (await this.redis.eval(RELEASE, { keys: [...seatIds].sort().map((s) => this.seatKey(showtimeId, s)), arguments: [token] })) as number;
    } catch (err) {
      this.degraded(err, 'release');
      return 0;
    }
  }

  /** The old lock: SET NX PX on the whole showtime. */
  async lockShowtime(showtimeId: string, token: string, ttlMs: number): Promise<HoldResult> {
    if (!this.redis) return { ok: true, degraded: false };
    try {
      const set = await this.redis.set(this.showtimeKey(showtimeId), token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
      return set === null ? { ok: false, taken: [] } : { ok: true, degraded: false };
    } catch (err) {
      this.degraded(err, 'showtime lock');
      return { ok: true, degraded: true };
    }
  }

  async unlockShowtime(showtimeId: string, token: string): Promise<void> {
    if (!this.redis) return;
    try {
      await this.redis.eval(RELEASE, { keys: [this.showtimeKey(showtimeId)], arguments: [token] });
    } catch (err) {
      this.degraded(err, 'showtime unlock');
    }
  }
}
