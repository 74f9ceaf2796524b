import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModuleMapping, Side } from '../../platform/mapping/aggregate-mapping.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { diff, type FieldDifference } from '../compare.ts';
import { functionNames } from '../sql/sync-objects.ts';
import type { ShadowRecorder, ShadowMismatch } from './shadow-recorder.ts';

export interface ShadowCall {
  module: ModuleName;
  store: string;
  method: string;
  /** the aggregate the results are, when the method declares one */
  aggregate: string | undefined;
  /** result fields that are not compared (declared on the method) */
  ignore: string[];
  args: unknown[];
}

export interface ShadowOptions {
  mappings: ReadonlyMap<ModuleName, ModuleMapping>;
  /** a pool that may run a side's generated docs function for the module */
  docsDb(module: ModuleName, side: Side): Knex;
  recorder: ShadowRecorder;
  sampleRate: number;
  timeoutMs: number;
  maxInFlight: number;
  /** a mismatch is read again after this long and recorded only if it persists (writes in flight) */
  recheckMs: number;
  metrics: Metrics;
  logger: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Aggregate keys in a read's result: a record's `id`, a list's, or a page's `items`. */
export function resultKeys(result: unknown): Set<string> {
  const keys = new Set<string>();
  const add = (x: unknown) => {
    const id = (x as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && UUID.test(id)) keys.add(id);
  };
  if (Array.isArray(result)) result.forEach(add);
  else if (result && typeof result === 'object') {
    const items = (result as { items?: unknown }).items;
    if (Array.isArray(items)) items.forEach(add);
    else add(result);
  }
  return keys;
}

export class TimeoutError extends Error {}

/** Resolve `p` within `ms` or reject with a TimeoutError. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Shadow reads (verify_<m>_reads): the served read goes on as usual; the same read on the other side
 * runs beside it, bounded in time and in number, and the two answers are compared afterwards, off the
 * request's path. Differences are explained through the aggregate's mapping — which keys one side lacks,
 * which fields of which key differ, with both values — and recorded; nothing here can fail a request.
 */
export class ShadowReads {
  private inFlight = 0;
  private readonly options: ShadowOptions;
  private readonly counter;

  constructor(options: ShadowOptions) {
    this.options = options;
    this.counter = options.metrics.counter('shadow_reads_total', 'Shadow reads by module and result', ['module', 'result']);
  }

  /** Whether to shadow this call: sampled, and only while fewer than maxInFlight comparisons run. */
  take(module: ModuleName): boolean {
    if (this.options.sampleRate < 1 && Math.random() >= this.options.sampleRate) return false;
    if (this.inFlight >= this.options.maxInFlight) {
      this.counter.inc({ module, result: 'skipped' });
      return false;
    }
    this.inFlight++;
    return true;
  }

  /** Give back a slot taken for a call that is not compared after all (its served read failed). */
  release(): void {
    this.inFlight--;
  }

  /** The other side's read, started beside the served one; bounded by the shadow timeout. */
  bounded<T>(read: Promise<T>): Promise<T> {
    return withTimeout(read, this.options.timeoutMs);
  }

  /** Compare in the background; `rerun` reads both sides again (for the re-check). */
  compare(call: ShadowCall, served: Side, result: unknown, other: Promise<unknown>, rerun: () => Promise<[unknown, unknown]>): void {
    void this.run(call, served, result, other, rerun).finally(() => this.inFlight--);
  }

  private async run(call: ShadowCall, served: Side, result: unknown, other: Promise<unknown>, rerun: () => Promise<[unknown, unknown]>): Promise<void> {
    const { recorder } = this.options;
    let outcome: 'match' | 'mismatch' | 'error' | 'timeout' = 'match';
    try {
      const otherResult = await other;
      let [legacy, own] = served === 'legacy' ? [result, otherResult] : [otherResult, result];
      let differences = diff(legacy, own, { ignored: call.ignore });
      if (differences.length > 0 && this.options.recheckMs > 0) {
        await new Promise((r) => setTimeout(r, this.options.recheckMs));
        [legacy, own] = await this.bounded(rerun());
        differences = diff(legacy, own, { ignored: call.ignore });
      }
      if (differences.length > 0) {
        outcome = 'mismatch';
        const found = await this.explain(call, legacy, own, differences);
        await recorder.mismatches(found);
        this.options.logger.warn({ module: call.module, store: call.store, method: call.method, mismatches: found.length }, 'shadow read mismatch');
      }
    } catch (err) {
      outcome = err instanceof TimeoutError ? 'timeout' : 'error';
      if (outcome === 'error') this.options.logger.warn({ err, module: call.module, method: call.method }, 'shadow read failed');
    } finally {
      this.counter.inc({ module: call.module, result: outcome });
      recorder.count(call.module, outcome);
    }
  }

  /** Name the difference through the mapping where the results are aggregates; otherwise as read. */
  private async explain(call: ShadowCall, legacy: unknown, own: unknown, differences: FieldDifference[]): Promise<ShadowMismatch[]> {
    const base = { module: call.module, aggregate: call.aggregate ?? call.store, method: `${call.store}.${call.method}` };
    const argsKey = JSON.stringify(call.args).slice(0, 200);
    const mapping = this.options.mappings.get(call.module)?.aggregates.find((a) => a.name === call.aggregate);
    if (!mapping) return [{ ...base, key: argsKey, kind: 'result', fields: differences }];
    const inLegacy = resultKeys(legacy);
    const inOwn = resultKeys(own);
    const found: ShadowMismatch[] = [];
    for (const k of inLegacy) if (!inOwn.has(k)) found.push({ ...base, key: k, kind: 'missing_in_own', fields: [] });
    for (const k of inOwn) if (!inLegacy.has(k)) found.push({ ...base, key: k, kind: 'missing_in_legacy', fields: [] });
    const common = [...inLegacy].filter((k) => inOwn.has(k));
    if (common.length > 0) {
      const [a, b] = await Promise.all([this.docs(call.module, mapping.name, 'legacy', common), this.docs(call.module, mapping.name, 'own', common)]);
      const ignored = Object.keys(mapping.notCompared ?? {});
      for (const k of common) {
        const fields = diff(a.get(k) ?? null, b.get(k) ?? null, { ignored });
        if (fields.length > 0) found.push({ ...base, key: k, kind: 'fields', fields });
      }
    }
    // equal data, different answers: the two stores read it differently
    return found.length > 0 ? found : [{ ...base, key: argsKey, kind: 'result', fields: differences }];
  }

  private async docs(module: ModuleName, aggregate: string, side: Side, keys: string[]): Promise<Map<string, unknown>> {
    const name = functionNames({ module, name: aggregate }).docs(side);
    const { rows } = (await this.options.docsDb(module, side).raw(`SELECT key, doc FROM migration.${name}(?::uuid[])`, [keys])) as {
      rows: { key: string; doc: unknown }[];
    };
    return new Map(rows.map((r) => [r.key, r.doc]));
  }
}
