import { TemplateError } from './errors.ts';

/** Values a template may use; everything is formatted into text before rendering. */
export type TemplateVars = Record<string, string>;

const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g;
// C0 controls except tab and newline, DEL, C1 controls, and the Unicode line/paragraph separators
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/** The placeholders a template uses, in order of first appearance. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** Problems that would make `render` throw: braces that are not a placeholder, unknown names. */
export function checkTemplate(template: string, allowed: readonly string[]): string[] {
  const problems: string[] = [];
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('has "{{" or "}}" that is not a {{name}} placeholder');
  for (const name of placeholders(template)) if (!allowed.includes(name)) problems.push(`uses unknown variable {{${name}}}`);
  return problems;
}

/**
 * A deliberately minimal, logic-less `{{name}}` renderer for stored templates (ADR 0040): no expressions,
 * no helpers, no property paths, no prototype lookups — a template can only pick values the code put in
 * `vars`. Strict: a placeholder without a value is a TemplateError, never a silent blank. Substituted
 * values lose control characters; `singleLine` (subjects, i.e. mail headers) also folds line breaks, so a
 * value cannot start a new header.
 */
export function render(template: string, vars: TemplateVars, options: { singleLine?: boolean } = {}): string {
  const problems = checkTemplate(template, Object.keys(vars));
  if (problems.length > 0) throw new TemplateError(`template ${problems.join('; ')}`);
  const out = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(vars, name) ? vars[name]! : '';
    const clean = value.replace(CONTROL, '');
    return options.singleLine ? clean.replace(/\s*[\r\n]+\s*/g, ' ') : clean.replace(/\r\n?/g, '\n');
  });
  return options.singleLine ? out.replace(/[\r\n]+/g, ' ').trim() : out;
}
