import type { RunRow } from '../reconciliation/runs.ts';
import { html, type Html } from './html.ts';

const WIDTH = 760;
const HEIGHT = 220;
const PAD = { left: 44, right: 16, top: 12, bottom: 28 };
const COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#e8590c', '#0c8599', '#c2255c', '#5c940d'];

const remainingOf = (run: RunRow): number => Object.values(run.remaining ?? {}).reduce((a, n) => a + Number(n), 0);
const shortTime = (d: Date): string => d.toISOString().slice(0, 16).replace('T', ' ');

/**
 * Drift over time: one line per module/aggregate through the differences each run left (its remaining
 * counts), drawn on the server as inline SVG — no chart library, no script. Each point links to its run.
 */
export function driftChart(runs: RunRow[], runHref: (id: number) => string): Html {
  if (runs.length === 0) return html`<p class="muted">No finished reconciliation runs in this period.</p>`;
  const series = new Map<string, RunRow[]>();
  for (const r of runs) {
    const name = `${r.module}/${r.aggregate}`;
    series.set(name, [...(series.get(name) ?? []), r]);
  }
  const times = runs.map((r) => new Date(r.started_at).getTime());
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const max = Math.max(1, ...runs.map(remainingOf));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (r: RunRow) => PAD.left + (t1 === t0 ? plotW / 2 : ((new Date(r.started_at).getTime() - t0) / (t1 - t0)) * plotW);
  const y = (r: RunRow) => PAD.top + plotH - (remainingOf(r) / max) * plotH;
  const f = (n: number) => n.toFixed(1);

  const lines = [...series.entries()].map(([name, points], i) => {
    const color = COLORS[i % COLORS.length]!;
    return html`<g class="series" data-series="${name}">
      <polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${f(x(p))},${f(y(p))}`).join(' ')}"/>
      ${points.map((p) => html`<a href="${runHref(p.id)}"><circle class="point" data-run="${p.id}" data-remaining="${remainingOf(p)}" cx="${f(x(p))}" cy="${f(y(p))}" r="4" fill="${color}"><title>${name} run ${p.id}, ${shortTime(new Date(p.started_at))}: ${remainingOf(p)} still different</title></circle></a>`)}
    </g>`;
  });
  const legend = [...series.keys()].map((name, i) => html`<span class="legend-item"><span class="swatch" style="background:${COLORS[i % COLORS.length]!}"></span>${name}</span>`);
  return html`<figure class="chart">
  <svg role="img" aria-label="Differences remaining after each reconciliation run" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet">
    <line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"/>
    <line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#999"/>
    <line x1="${PAD.left}" y1="${PAD.top}" x2="${WIDTH - PAD.right}" y2="${PAD.top}" stroke="#eee"/>
    <text x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end" dominant-baseline="middle" class="axis">0</text>
    <text x="${PAD.left - 6}" y="${PAD.top}" text-anchor="end" dominant-baseline="middle" class="axis">${max}</text>
    <text x="${PAD.left}" y="${HEIGHT - 8}" class="axis">${shortTime(new Date(t0))}</text>
    <text x="${WIDTH - PAD.right}" y="${HEIGHT - 8}" text-anchor="end" class="axis">${shortTime(new Date(t1))}</text>
    ${lines}
  </svg>
  <figcaption>${legend}</figcaption>
</figure>`;
}
