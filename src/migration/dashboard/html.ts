import { escapeHtml } from '../../platform/http/admin-login-page.ts';

/**
 * HTML built from a tagged template that escapes every interpolated value unless it is itself `Html`
 * (the result of another `html` template, or `unsafeRaw` for markup we wrote). A value reaching a page
 * from the database — a finding's field value, a reason, an actor — can therefore only ever be text.
 */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}


type Interpolated = Html | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup this code wrote itself (never data). */
export const unsafeRaw = (markup: string): Html => new Html(markup);
