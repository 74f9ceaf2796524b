import type { Knex } from '../../platform/db.ts';
import type { AggregateMapping, ModuleMapping, Side } from '../../platform/mapping/aggregate-mapping.ts';
import { diff } from '../compare.ts';
import { functionNames } from '../sql/sync-objects.ts';
import type { Finding } from './engine.ts';
import type { RecordedFinding, RepairOutcome } from './runs.ts';

export interface RepairOptions {
  mapping: ModuleMapping;
  aggregate: AggregateMapping;
  /** where the writes go: own while legacy is primary (up to SHADOW_READ), legacy from READ_NEW on */
  target: Side;
  apply: boolean;
  /** the migration role's pool on DATABASE_URL: runs the generated copy functions */
  db: Knex;
  /** the module database when the own schema lives apart (copies go there through its write function) */
  ownDb?: Knex | undefined;
}

const source = (target: Side): Side => (target === 'own' ? 'legacy' : 'own');
const DONE = { would_insert: 'inserted', would_update: 'updated', would_delete: 'deleted' } as const;

function planned(f: Finding, target: Side): RepairOutcome {
  const from = source(target);
  const has = (side: Side) => (side === 'legacy' ? f.legacy : f.own) !== null && (side === 'legacy' ? f.legacy : f.own) !== undefined;
  if (!has(from)) return 'would_delete';
  return has(target) ? 'would_update' : 'would_insert';
}

async function docsOf(db: Knex, a: AggregateMapping, side: Side, keys: string[]): Promise<Map<string, unknown>> {
  const { rows } = (await db.raw(`SELECT key::text AS key, doc FROM migration.${functionNames(a).docs(side)}(?::uuid[])`, [keys])) as { rows: { key: string; doc: unknown }[] };
  return new Map(rows.map((r) => [r.key, r.doc]));
}

/**
 * Repair findings in the phase's direction: a dry run only says what each would write (insert, update,
 * delete on the target side); `apply` copies the source side's documents over through the same generated
 * functions dual-write uses (a key the source lacks is deleted on the target), records each target
 * document before and after, and checks again whether anything still differs. Orphans are never written:
 * the target cannot hold them; they need a fix at the source.
 */
export async function repair(o: RepairOptions, findings: Finding[]): Promise<RecordedFinding[]> {
  const out: RecordedFinding[] = findings.map((f) => ({ ...f, repair: f.kind === 'orphan' ? 'skipped' : planned(f, o.target), ...(f.kind === 'orphan' ? { stillDifferent: true } : {}) }));
  if (!o.apply) return out;
  const todo = out.filter((f) => f.kind !== 'orphan');
  const ignored = Object.keys(o.aggregate.notCompared ?? {});
  const names = functionNames(o.aggregate);
  for (let i = 0; i < todo.length; i += 500) {
    const chunk = todo.slice(i, i + 500);
    const keys = chunk.map((f) => f.key);
    try {
      // a module database of its own: the source's documents read there (or here), written through the target's write function
      const dbOf = (side: Side) => (side === 'own' && o.ownDb ? o.ownDb : o.db);
      if (o.ownDb) {
        const docs = await docsOf(dbOf(source(o.target)), o.aggregate, source(o.target), keys);
        await dbOf(o.target).raw(`SELECT migration.${names.write(o.target)}(?::jsonb, ?::uuid[])`, [JSON.stringify([...docs.values()]), keys]);
      } else {
        await o.db.raw(`SELECT migration.${names.copyTo(o.target)}(?::uuid[])`, [keys]);
      }
      const [after, from] = await Promise.all([docsOf(dbOf(o.target), o.aggregate, o.target, keys), docsOf(dbOf(source(o.target)), o.aggregate, source(o.target), keys)]);
      for (const f of chunk) {
        f.before = (o.target === 'legacy' ? f.legacy : f.own) ?? null;
        f.after = after.get(f.key) ?? null;
        f.repair = DONE[f.repair as keyof typeof DONE] ?? f.repair;
        f.stillDifferent = diff(from.get(f.key) ?? null, after.get(f.key) ?? null, { ignored }).length > 0;
      }
    } catch (err) {
      for (const f of chunk) {
        f.repair = 'failed';
        f.stillDifferent = true;
        f.reason = `${f.reason ? `${f.reason}; ` : ''}repair failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
      }
    }
  }
  return out;
}
