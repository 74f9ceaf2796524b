import { randomBytes } from 'node:crypto';
import type { Knex } from '../../src/platform/db.ts';
import { api, newUser, type TestApp } from '../helpers/app.ts';
import { waitFor } from '../helpers/events.ts';

/**
 * A traffic generator for the rehearsal: a few concurrent clients doing what users and admins do —
 * sign in (the first sign-in of a seeded user rehashes its password: a write), check their token, register,
 * read the catalog and seat maps, book seats, edit movies — and checking every answer against what it
 * knows to be true. Requests and failures are counted per phase (the label the rehearsal sets).
 */
interface Failure { phase: string; kind: string; status: number; detail: string }

export interface TrafficReport {
  total: number;
  failures: Failure[];
  summary: string;
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
/** the first movies are edited only by catalogWrites */
const RESERVED = 8;

export class Traffic {
  phase = 'LEGACY';
  total = 0;
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly failures: Failure[] = [];
  private running = true;
  private workers: Promise<void>[] = [];
  private readonly tokens = new Map<string, string>();
  /** descriptions a movie may show right now (the current one, plus one being written) */
  private readonly descriptions = new Map<string, Set<string | null>>();
  private readonly o: { app: TestApp; admin: Knex; adminToken: string; password: string };
  private users: { email: string }[] = [];
  private movies: { id: string; title: string }[] = [];
  private showtimes: { id: string; seats: string[] }[] = [];

  private constructor(options: Traffic['o']) {
    this.o = options;
  }

  static async start(options: Traffic['o'], clients = 6): Promise<Traffic> {
    const t = new Traffic(options);
    const { admin } = options;
    t.users = (await admin('public.users').where('is_active', true).whereNot('role', 'admin').orderBy('id').limit(60).select('email')) as { email: string }[];
    t.movies = (await admin('public.movies').select('id', 'title', 'description')).map((m: { id: string; title: string; description: string | null }) => {
      t.descriptions.set(m.id, new Set([m.description]));
      return { id: m.id, title: m.title };
    });
    const shows = (await admin('public.showtimes').where('start_time', '>', new Date(Date.now() + 3 * 3600_000)).whereNull('cancelled_at').orderBy('id').limit(12).select('id', 'theater_id')) as { id: string; theater_id: string }[];
    for (const s of shows) t.showtimes.push({ id: s.id, seats: (await admin('public.seats').where({ theater_id: s.theater_id }).pluck('id')) as string[] });
    if (t.users.length < 10 || t.showtimes.length < 3) throw new Error('the seeded data is too small for the traffic generator');
    t.workers = Array.from({ length: clients }, () => t.loop());
    return t;
  }

  private count(kind: string): void {
    this.total++;
    const byKind = this.counts.get(this.phase) ?? new Map<string, number>();
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    this.counts.set(this.phase, byKind);
  }

  private fail(kind: string, status: number, detail: unknown): void {
    this.failures.push({ phase: this.phase, kind, status, detail: JSON.stringify(detail).slice(0, 300) });
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.once();
      } catch (err) {
        this.fail('exception', 0, String(err));
      }
    }
  }

  private async once(): Promise<void> {
    const { url } = this.o.app;
    const r = Math.random();
    if (r < 0.18) {
      const u = pick(this.users);
      const res = await api(url, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: this.o.password } });
      this.count('login');
      if (res.status !== 200 || !res.body.access_token) return this.fail('login', res.status, res.body);
      this.tokens.set(u.email, res.body.access_token as string);
    } else if (r < 0.36) {
      const known = [...this.tokens.entries()];
      if (known.length === 0) return;
      const [email, token] = pick(known);
      const res = await api(url, 'GET', '/api/v1/auth/me', { token });
      this.count('me');
      if (res.status !== 200 || String(res.body.email).toLowerCase() !== email.toLowerCase()) this.fail('me', res.status, res.body);
    } else if (r < 0.41) {
      const res = await api(url, 'POST', '/api/v1/auth/register', { body: newUser('rehearsal') });
      this.count('register');
      if (res.status !== 201) this.fail('register', res.status, res.body);
    } else if (r < 0.6) {
      const m = pick(this.movies);
      const res = await api(url, 'GET', `/api/v1/movies/${m.id}`);
      this.count('movie');
      if (res.status !== 200 || res.body.title !== m.title || !this.descriptions.get(m.id)!.has(res.body.description)) this.fail('movie', res.status, { expected: [...this.descriptions.get(m.id)!], got: res.body });
    } else if (r < 0.65) {
      const res = await api(url, 'GET', '/api/v1/movies?limit=100');
      this.count('movies');
      if (res.status !== 200 || res.body.total !== this.movies.length) this.fail('movies', res.status, { total: res.body.total });
    } else if (r < 0.8) {
      const s = pick(this.showtimes);
      const res = await api(url, 'GET', `/api/v1/showtimes/${s.id}/seats`);
      this.count('seats');
      if (res.status !== 200 || !Array.isArray(res.body) || res.body.length !== s.seats.length) this.fail('seats', res.status, { got: Array.isArray(res.body) ? res.body.length : res.body });
    } else if (r < 0.97) {
      const known = [...this.tokens.values()];
      if (known.length === 0) return;
      const s = pick(this.showtimes);
      const res = await api(url, 'POST', '/api/v1/bookings', { token: pick(known), body: { showtime_id: s.id, seat_ids: [pick(s.seats)] } });
      this.count('booking');
      if (res.status !== 201 && res.status !== 409) this.fail('booking', res.status, res.body);
    } else {
      // movies the rehearsal edits itself (catalogWrites) are left alone, so its checks see its own writes
      await this.editMovie(pick(this.movies.slice(RESERVED)).id);
    }
  }

  private async editMovie(id: string): Promise<string> {
    const description = `edited ${randomBytes(4).toString('hex')}`;
    const allowed = this.descriptions.get(id)!;
    allowed.add(description);
    const res = await api(this.o.app.url, 'PATCH', `/api/v1/movies/${id}`, { token: this.o.adminToken, body: { description } });
    this.count('edit-movie');
    if (res.status !== 200) this.fail('edit-movie', res.status, res.body);
    else this.descriptions.set(id, new Set([description]));
    return description;
  }

  /** writes the rehearsal checks afterwards: movie descriptions, and new showtimes */
  async catalogWrites(n: number): Promise<{ descriptions: { id: string; description: string }[]; showtimes: string[] }> {
    const descriptions: { id: string; description: string }[] = [];
    for (const m of this.movies.slice(0, Math.min(n, RESERVED))) descriptions.push({ id: m.id, description: await this.editMovie(m.id) });
    const theaters = (await this.o.admin('public.theaters').limit(2).pluck('id')) as string[];
    const showtimes: string[] = [];
    for (const [i, theater] of theaters.entries()) {
      const start = new Date(Date.now() + (400 + i * 30 + Math.floor(Math.random() * 1000)) * 24 * 3600_000);
      const res = await api(this.o.app.url, 'POST', '/api/v1/showtimes', { token: this.o.adminToken, body: { movie_id: this.movies[i]!.id, theater_id: theater, start_time: start.toISOString(), base_price: '80000' } });
      this.count('create-showtime');
      if (res.status !== 201) this.fail('create-showtime', res.status, res.body);
      else showtimes.push(res.body.id as string);
    }
    return { descriptions, showtimes };
  }

  async waitRequests(n: number): Promise<void> {
    const target = this.total + n;
    await waitFor(`${n} more requests`, () => this.total >= target, 60_000);
  }

  async stop(): Promise<TrafficReport> {
    this.running = false;
    await Promise.all(this.workers);
    const lines = [...this.counts.entries()].map(([phase, kinds]) => {
      const n = [...kinds.values()].reduce((a, b) => a + b, 0);
      return `${phase.padEnd(34)} ${String(n).padStart(6)} requests (${[...kinds.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})`;
    });
    return { total: this.total, failures: this.failures, summary: [`${this.total} requests, ${this.failures.length} wrong`, ...lines].join('\n') };
  }
}
