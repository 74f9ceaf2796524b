import { html, unsafeRaw, type Html } from './html.ts';

export const PAGE_BASE = '/admin/migration';
export const runHref = (id: number): string => `${PAGE_BASE}/runs/${id}`;

const STYLE = `
  :root { --fg: #1d2330; --muted: #667085; --line: #d9dde3; --ok: #2f7d32; --bad: #b42318; --diff: #fff4d6; --accent: #1f6feb; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: #f6f7f9; margin: 0; }
  header { background: #1d2330; color: #fff; padding: .6rem 1.5rem; display: flex; gap: 1.5rem; align-items: center; }
  header a { color: #fff; text-decoration: none; } header a.current { font-weight: 600; border-bottom: 2px solid #fff; }
  header form { margin-left: auto; } header button { background: none; color: #fff; border: 1px solid #667; border-radius: 4px; padding: .2rem .6rem; cursor: pointer; }
  main { max-width: 1280px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
  h1 { font-size: 1.35rem; margin: .5rem 0 1rem; } h2 { font-size: 1.1rem; margin: 1.8rem 0 .6rem; }
  section.card, .module { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; }
  .modules { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: .8rem; }
  .module h3 { margin: 0 0 .4rem; font-size: 1rem; display: flex; justify-content: space-between; }
  ol.path { list-style: none; display: flex; flex-wrap: wrap; gap: 2px; padding: 0; margin: .3rem 0 .6rem; }
  ol.path li { font-size: 11px; padding: 2px 6px; background: #eef0f3; color: var(--muted); border-radius: 3px; }
  ol.path li.done { background: #dcefe0; color: var(--ok); } ol.path li.current { background: var(--accent); color: #fff; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .small { font-size: 12px; } .muted { color: var(--muted); }
  .ok { color: var(--ok); } .bad { color: var(--bad); }
  .status-drift, .status-error { color: var(--bad); font-weight: 600; } .status-clean { color: var(--ok); }
  ul.guards { list-style: none; padding: 0; margin: .2rem 0; } ul.guards li { font-size: 12px; }
  code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; }
  tr.diff td { background: var(--diff); } tr.diff td:first-child { border-left: 3px solid #f0a500; }
  .finding { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; margin-bottom: .8rem; }
  .finding h3 { font-size: .95rem; margin: 0 0 .4rem; }
  .sides th:nth-child(2), .sides th:nth-child(3) { width: 42%; }
  .pager { display: flex; gap: 1rem; margin: .8rem 0; } .filters a { margin-right: .8rem; } .filters a.current { font-weight: 600; }
  figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
  figure.chart .axis { font-size: 11px; fill: var(--muted); }
  .legend-item { margin-right: 1rem; font-size: 12px; } .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
`;

/** The page frame: navigation between the admin pages, the CSS (inline styles are allowed by the admin CSP; no script). */
export function layout(title: string, body: Html): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} — Boxoffice admin</title>
<style>${unsafeRaw(STYLE)}</style>
</head>
<body>
<header>
  <strong>Boxoffice admin</strong>
  <a href="${PAGE_BASE}" class="current">Migration</a>
  <a href="/admin/queues">Jobs (bull-board)</a>
  <form method="post" action="/admin/logout"><button type="submit">Log out</button></form>
</header>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export const when = (d: Date | string | null | undefined): string => (d ? new Date(d).toISOString().slice(0, 19).replace('T', ' ') + 'Z' : '—');
export const pct = (r: number): string => (r >= 100 ? 'on' : r <= 0 ? 'off' : `${r}%`);
