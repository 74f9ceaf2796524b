import type { LogEntry } from '../cutover/state.ts';
import { phaseIndex } from '../phases.ts';
import { FINDING_KINDS, type RunRow } from '../reconciliation/runs.ts';
import type { ModuleView, RunPage } from './dashboard-service.ts';
import { PAGE_BASE, layout, pct, runHref, when } from './dashboard-layout.ts';
import { driftChart } from './drift-chart.ts';
import { html, type Html } from './html.ts';

export interface OverviewView {
  flagSource: string;
  modules: ModuleView[];
  history: RunRow[];
  historyDays: number;
  runs: RunPage;
  log: LogEntry[];
}

const KIND_LABELS: Record<string, string> = { missing_in_own: 'missing in own', missing_in_legacy: 'missing in legacy', fields: 'fields differ', orphan: 'orphan' };

function moduleCard(m: ModuleView): Html {
  const at = phaseIndex(m.phase);
  return html`<div class="module" data-module="${m.module}">
  <h3><span>${m.module}</span><span class="phase" data-phase="${m.phase}">${m.label}</span></h3>
  <ol class="path">${m.path.map((p, i) => html`<li class="${i < at ? 'done' : i === at ? 'current' : ''}">${p}</li>`)}</ol>
  <div class="small muted">${m.since ? html`in this phase since ${when(m.since)}` : ''}</div>
  <table class="small"><thead><tr><th>flag</th><th>value</th><th>set by</th></tr></thead><tbody>
    ${m.flags.map((f) => html`<tr><td><code>${f.flag}</code></td><td>${pct(f.rollout)}</td><td class="muted">${f.source}</td></tr>`)}
  </tbody></table>
  ${m.next
    ? html`<p class="small"><strong>Next:</strong> ${m.next.step} — ${m.next.from} → ${m.next.to}${m.next.changes.length ? html` <span class="muted">(${m.next.changes.map((c) => `${c.flag}=${pct(c.rollout)}`).join(', ')})</span>` : ''}</p>
       <ul class="guards">${m.next.guards.length === 0 ? html`<li class="muted">no guards</li>` : m.next.guards.map((g) => html`<li class="${g.ok ? 'ok' : 'bad'}">${g.ok ? '✓' : '✗'} ${g.guard}: ${g.detail}</li>`)}</ul>`
    : html`<p class="small ok">Every step of the plan is done.</p>`}
</div>`;
}

function countsCells(run: RunRow): Html[] {
  return FINDING_KINDS.map((k) => {
    const found = Number(run.counts?.[k] ?? 0);
    const left = Number(run.remaining?.[k] ?? 0);
    return html`<td class="num ${left > 0 ? 'bad' : ''}">${found === left ? left : `${left} (of ${found})`}</td>`;
  });
}

const countsHead = html`${FINDING_KINDS.map((k) => html`<th class="num">${KIND_LABELS[k]}</th>`)}`;

export function runRow(r: RunRow, withAggregate = true): Html {
  return html`<tr data-run="${r.id}">
    <td><a href="${runHref(r.id)}">#${r.id}</a></td>
    ${withAggregate ? html`<td>${r.module}/${r.aggregate}</td>` : ''}
    <td class="status-${r.status}">${r.status}</td><td>${r.mode}${r.repair !== 'none' ? ` · ${r.repair}` : ''}</td><td>${r.phase ?? '—'}</td><td>${r.trigger}</td>
    <td>${when(r.started_at)}</td><td class="num">${r.rows_compared}</td>${countsCells(r)}
  </tr>`;
}

const runsHead = html`<tr><th>run</th><th>aggregate</th><th>status</th><th>mode</th><th>phase</th><th>trigger</th><th>started</th><th class="num">rows</th>${countsHead}</tr>`;

export function renderOverview(view: OverviewView): string {
  const latest = view.modules.flatMap((m) => m.latest_runs);
  return layout('Migration', html`
<h1>Migration off the shared tables</h1>
<p class="small muted">Phases read from the flags (${view.flagSource}) and the cutover log; guards evaluated now. Reconciliation counts: still different (of found) per kind.</p>
<h2>Modules</h2>
<div class="modules">${view.modules.map(moduleCard)}</div>

<h2>Latest reconciliation run per aggregate</h2>
${latest.length === 0 ? html`<p class="muted">No reconciliation has run yet (<code>boxoffice reconcile</code>, or the scheduled runs).</p>` : html`<table id="latest-runs"><thead>${runsHead}</thead><tbody>${latest.map((r) => runRow(r))}</tbody></table>`}

<h2>Drift over time <span class="small muted">(differences left after each run, last ${view.historyDays} days)</span></h2>
<div id="drift-chart">${driftChart(view.history, runHref)}</div>

<h2>Runs</h2>
<table id="runs"><thead>${runsHead}</thead><tbody>${view.runs.items.map((r) => runRow(r))}</tbody></table>
<div class="pager">${view.runs.nextBefore !== null ? html`<a href="${PAGE_BASE}?before=${view.runs.nextBefore}#runs">Older runs →</a>` : ''}</div>

<h2>Cutover log</h2>
${view.log.length === 0 ? html`<p class="muted">Nothing has been advanced or rolled back yet.</p>` : html`<table id="cutover-log"><thead><tr><th>when</th><th>who</th><th>action</th><th>step</th><th>from → to</th><th>flags</th><th>guards</th><th>reason</th></tr></thead><tbody>
${view.log.map((e) => html`<tr>
  <td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}${e.forced ? html` <strong class="bad">forced</strong>` : ''}</td><td>${e.step}</td>
  <td>${e.from_phase ?? '—'} → ${e.to_phase ?? '—'}</td>
  <td class="small">${Object.entries(e.flags ?? {}).map(([f, r]) => `${f}=${pct(r)}`).join(', ')}</td>
  <td class="small">${(e.guards ?? []).map((g) => html`<span class="${g.ok ? 'ok' : 'bad'}" title="${g.detail}">${g.ok ? '✓' : '✗'} ${g.guard}</span> `)}</td>
  <td>${e.reason ?? ''}</td></tr>`)}
</tbody></table>`}
`);
}
