import { FINDING_KINDS, type FindingRow } from '../reconciliation/runs.ts';
import type { RunWithFindings } from './dashboard-service.ts';
import { PAGE_BASE, layout, runHref, when } from './dashboard-layout.ts';
import { html, type Html } from './html.ts';

export interface RunPageView extends RunWithFindings {
  kind: string | undefined;
  limit: number;
}

/** A value as a reader compares it: strings as they are, everything else as JSON. */
const shown = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v, null, 1));
const isDoc = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `seats[2].price` → `seats`: the document field a difference belongs to */
const rootField = (path: string): string => path.split(/[.[]/)[0]!;

/** Both sides' documents side by side, one row per field, rows with a difference highlighted. */
function sideBySide(f: FindingRow): Html {
  const legacy = isDoc(f.legacy) ? f.legacy : undefined;
  const own = isDoc(f.own) ? f.own : undefined;
  const differing = new Set(f.fields.map((d) => rootField(d.field)));
  const names = [...new Set([...Object.keys(legacy ?? {}), ...Object.keys(own ?? {})])];
  const cell = (doc: Record<string, unknown> | undefined, name: string) =>
    doc === undefined ? html`<td class="muted">— (no row)</td>` : name in doc ? html`<td><code>${shown(doc[name])}</code></td>` : html`<td class="muted">—</td>`;
  return html`<table class="sides"><thead><tr><th>field</th><th>legacy</th><th>own</th></tr></thead><tbody>
  ${names.map((n) => {
    const diff = differing.has(n) || (f.kind !== 'fields' && (legacy === undefined || own === undefined || JSON.stringify(legacy[n]) !== JSON.stringify(own[n])));
    return html`<tr class="${diff ? 'diff' : ''}" data-field="${n}"><td><code>${n}</code></td>${cell(legacy, n)}${cell(own, n)}</tr>`;
  })}
  </tbody></table>`;
}

function finding(f: FindingRow): Html {
  return html`<div class="finding" data-finding="${f.id}" data-key="${f.key}" data-kind="${f.kind}">
  <h3><code>${f.key}</code> · ${f.kind.replaceAll('_', ' ')}${f.repair !== 'none' ? html` · repair: ${f.repair}${f.still_different ? html` <span class="bad">(still different)</span>` : ''}` : ''}</h3>
  ${f.reason ? html`<p class="small bad">${f.reason}</p>` : ''}
  ${f.fields.length > 0
    ? html`<table class="fields small"><thead><tr><th>differing field</th><th>legacy</th><th>own</th></tr></thead><tbody>
        ${f.fields.map((d) => html`<tr class="diff"><td><code>${d.field}</code></td><td><code>${shown(d.legacy)}</code></td><td><code>${shown(d.own)}</code></td></tr>`)}
      </tbody></table>`
    : ''}
  <details${f.kind === 'fields' ? '' : ' open'}><summary class="small">whole documents</summary>${sideBySide(f)}</details>
</div>`;
}

export function renderRunPage(view: RunPageView): string {
  const { run, findings } = view;
  const base = runHref(run.id);
  const query = (extra: Record<string, string | number | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ kind: view.kind, ...extra })) if (v !== undefined) params.set(k, String(v));
    const s = params.toString();
    return s ? `${base}?${s}` : base;
  };
  return layout(`Run #${run.id}`, html`
<p class="small"><a href="${PAGE_BASE}">← Migration</a></p>
<h1>Reconciliation run #${run.id}: ${run.module}/${run.aggregate} <span class="status-${run.status}">${run.status}</span></h1>
<table class="small" id="run-summary"><tbody>
  <tr><th>mode</th><td>${run.mode}</td><th>repair</th><td>${run.repair}${run.direction ? ` (${run.direction.replace('_', ' ')})` : ''}</td><th>phase</th><td>${run.phase ?? '—'}</td><th>trigger</th><td>${run.trigger}</td></tr>
  <tr><th>started</th><td>${when(run.started_at)}</td><th>finished</th><td>${when(run.finished_at)}</td><th>rows compared</th><td>${run.rows_compared}</td><th>segments</th><td>${run.segments_compared}</td></tr>
  <tr>${FINDING_KINDS.map((k) => html`<th>${k.replaceAll('_', ' ')}</th><td class="${Number(run.remaining?.[k] ?? 0) > 0 ? 'bad' : ''}">${run.remaining?.[k] ?? 0} left of ${run.counts?.[k] ?? 0}</td>`)}</tr>
  ${run.error ? html`<tr><th>error</th><td colspan="7" class="bad">${run.error}</td></tr>` : ''}
</tbody></table>

<h2>Findings <span class="small muted">(${findings.total}${view.kind ? ` ${view.kind.replaceAll('_', ' ')}` : ''})</span></h2>
<p class="filters small"><a href="${base}" class="${view.kind ? '' : 'current'}">all</a>${FINDING_KINDS.map((k) => html`<a href="${base}?kind=${k}" class="${view.kind === k ? 'current' : ''}">${k.replaceAll('_', ' ')}</a>`)}</p>
${findings.items.length === 0 ? html`<p class="muted">No findings${view.kind ? ' of this kind' : ''}.</p>` : findings.items.map(finding)}
<div class="pager">
  ${findings.nextAfter !== null ? html`<a rel="next" href="${query({ after: findings.nextAfter, limit: view.limit })}">Next findings →</a>` : ''}
</div>
`);
}
