import type { FieldSpec, FieldType } from '../../platform/mapping/aggregate-mapping.ts';

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** A quoted SQL string literal. */
export const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
/** `"schema"."table"` */
export const qualified = (schema: string, table: string): string => `${ident(schema)}.${ident(table)}`;

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * The canonical value of a stored value, as it goes into a document: equal data on the two sides must
 * give equal text (documents are compared and hashed as text).
 */
export function canonical(type: FieldType, expr: string): string {
  switch (type) {
    case 'money':
      return `((${expr})::numeric(16,2))::text`;
    case 'timestamp':
      return `to_char((${expr}), ${ISO})`;
    case 'timestamptz':
      return `to_char((${expr}) AT TIME ZONE 'UTC', ${ISO})`;
    case 'date':
      return `to_char((${expr}), 'YYYY-MM-DD')`;
    case 'char':
      return `rtrim(${expr})`;
    case 'uuid':
      return `(${expr})::text`;
    default:
      return `(${expr})`;
  }
}

/** The column value for a document field, read from the jsonb `source` (`d` for a root, `e` for a child). */
export function fromDocument(type: FieldType, source: string, field: string): string {
  const text = `(${source}->>${literal(field)})`;
  switch (type) {
    case 'uuid':
      return `${text}::uuid`;
    case 'int':
      return `${text}::integer`;
    case 'bool':
      return `${text}::boolean`;
    case 'money':
      return `${text}::numeric`;
    case 'timestamp':
      return `(${text}::timestamptz AT TIME ZONE 'UTC')`;
    case 'timestamptz':
      return `${text}::timestamptz`;
    case 'date':
      return `${text}::date`;
    case 'jsonb':
      return `NULLIF(${source}->${literal(field)}, 'null'::jsonb)`;
    default:
      return text;
  }
}

/** The column a field is stored in on a side, or undefined when the side derives it on read only. */
export const columnOf = (field: FieldSpec): string | undefined => (field.column === null ? undefined : (field.column ?? field.field));

/** SQL of the field's value on read (alias `alias`), canonical. */
export function readField(field: FieldSpec, alias: string): string {
  const column = columnOf(field);
  const raw = field.read ?? (column ? `${alias}.${ident(column)}` : 'NULL');
  return canonical(field.type, raw);
}

/** SQL of the field's column value on write from `source`. */
export function writeField(field: FieldSpec, source: string): string {
  const value = fromDocument(field.type, source, field.field);
  return field.write ? field.write.replaceAll('$value', value) : value;
}

/** `jsonb_build_object('a', x, 'b', y, …)`, split so no call exceeds Postgres's 100 arguments. */
export function buildObject(pairs: [string, string][]): string {
  const chunks: string[] = [];
  for (let i = 0; i < pairs.length; i += 40) {
    const args = pairs.slice(i, i + 40).flatMap(([k, v]) => [literal(k), v]);
    chunks.push(`jsonb_build_object(${args.join(', ')})`);
  }
  return chunks.length === 0 ? `'{}'::jsonb` : chunks.join(' || ');
}
