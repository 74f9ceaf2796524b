/**
 * Field-by-field comparison of two canonical forms (documents of one aggregate from the two sides, or a
 * read's results from the two stores). Shared by shadow reads and reconciliation.
 */

export interface FieldDifference {
  /** dotted path, e.g. `seats[2].price` */
  field: string;
  legacy: unknown;
  own: unknown;
}

/** Plain JSON: dates as ISO strings, maps as objects with sorted keys, undefined as null. */
export function toCanonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => [String(k), toCanonical(v)] as const);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  }
  if (Array.isArray(value)) return value.map(toCanonical);
  if (value !== null && typeof value === 'object') {
    if (Buffer.isBuffer(value)) return value.toString('base64');
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toCanonical(v)]));
  }
  return value === undefined ? null : value;
}

function walk(legacy: unknown, own: unknown, path: string, out: FieldDifference[], limit: number, ignored: ReadonlySet<string>): void {
  if (out.length >= limit) return;
  if (ignored.has(path) || ignored.has(path.slice(path.lastIndexOf('.') + 1))) return;
  if (legacy === own) return;
  const bothArrays = Array.isArray(legacy) && Array.isArray(own);
  const bothObjects = !bothArrays && legacy !== null && own !== null && typeof legacy === 'object' && typeof own === 'object' && !Array.isArray(legacy) && !Array.isArray(own);
  if (bothArrays) {
    const a = legacy as unknown[];
    const b = own as unknown[];
    if (a.length !== b.length) {
      out.push({ field: `${path}.length`.replace(/^\./, ''), legacy: a.length, own: b.length });
    }
    for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, out, limit, ignored);
    return;
  }
  if (bothObjects) {
    const a = legacy as Record<string, unknown>;
    const b = own as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      walk(a[key] ?? null, b[key] ?? null, path ? `${path}.${key}` : key, out, limit, ignored);
    }
    return;
  }
  out.push({ field: path || '(value)', legacy, own });
}

/** The differing fields (at most `limit`), or an empty list when the two are equal. `ignored` names fields (by path or by name) to skip. */
export function diff(legacy: unknown, own: unknown, options: { limit?: number; ignored?: Iterable<string> } = {}): FieldDifference[] {
  const out: FieldDifference[] = [];
  walk(toCanonical(legacy), toCanonical(own), '', out, options.limit ?? 25, new Set(options.ignored ?? []));
  return out;
}
