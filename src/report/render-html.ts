/**
 * The report as one self-contained HTML file: no scripts, no external fonts, styles or images;
 * charts are inline SVG. Prints to PDF with a page break before every section.
 */
import { type Block, type Cell, reportBlocks } from './document.ts';
import type { Chart, Report } from './model.ts';

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Digests (71 characters without a break) may wrap anywhere; short identifiers (pod, CVE id, time) never. */
function cell(c: Cell): string {
  if (c === null) return '<td><span class="none">-</span></td>';
  const text = String(c);
  const cls = /^sha256:/.test(text)
    ? ' class="digest"'
    : text.length <= 12 || (text.length <= 28 && !/\s/.test(text))
      ? ' class="nw"'
      : '';
  return `<td${cls}>${esc(text)}</td>`;
}
const anchor = (id: string): string => `q-${id}`;
const sources = (ids: readonly string[]): string =>
  `<p class="src">Source: ${ids.map((q) => `<a href="#${anchor(q)}">${esc(q)}</a>`).join(', ')}</p>`;

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #1b1f24; font-size: 14px; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 2px solid #1b1f24; padding-bottom: .2em; margin-top: 2em; } h3 { font-size: 1.05em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #c8ccd1; padding: .25em .5em; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td.nw { white-space: nowrap; }
td.digest { word-break: break-all; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .8em; }
th { background: #eef1f4; }
.src { color: #57606a; font-size: .8em; margin: .2em 0 1em; }
.none, .empty { color: #57606a; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; } dl.meta dt { font-weight: 600; }
pre { background: #f6f8fa; padding: .5em; white-space: pre-wrap; word-break: break-all; font-size: .8em; }
svg { max-width: 100%; height: auto; } svg text { font-size: 11px; fill: #1b1f24; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  section { break-before: page; page-break-before: always; }
  section:first-of-type { break-before: auto; page-break-before: auto; }
  table, svg, pre { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

/** A line (ratio) or bar (count) chart over the points, with axes and a few labels. */
export function svgChart(chart: Chart): string {
  const width = 720;
  const height = 220;
  const pad = { left: 48, right: 28, top: 12, bottom: 36 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const points = chart.points;
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const max = chart.unit === 'ratio' ? 1 : Math.max(1, ...values);
  const x = (i: number) => pad.left + (points.length <= 1 ? w / 2 : (i * w) / (points.length - 1));
  const y = (v: number) => pad.top + h - (v / max) * h;
  const parts: string[] = [];
  const ticks = chart.unit === 'ratio' ? [0, 0.5, 1] : [0, Math.round(max / 2), max];
  for (const t of [...new Set(ticks)]) {
    parts.push(
      `<line x1="${pad.left}" x2="${pad.left + w}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#d0d7de"/>`,
    );
    parts.push(
      `<text x="${pad.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${chart.unit === 'ratio' ? `${t * 100} %` : t}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(points.length / 6));
  points.forEach((p, i) => {
    if (i % labelEvery === 0 || i === points.length - 1)
      parts.push(
        `<text x="${x(i).toFixed(1)}" y="${height - 14}" text-anchor="middle">${esc(p.time.slice(5, 10))}</text>`,
      );
  });
  if (chart.unit === 'count') {
    const barWidth = Math.max(1, (w / Math.max(points.length, 1)) * 0.7);
    points.forEach((p, i) => {
      if (p.value === null || p.value === 0) return;
      parts.push(
        `<rect x="${(x(i) - barWidth / 2).toFixed(1)}" y="${y(p.value).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(pad.top + h - y(p.value)).toFixed(1)}" fill="#cf222e"><title>${esc(p.time)}: ${p.value}</title></rect>`,
      );
    });
  } else {
    // Gaps (no data) break the line: missing evidence is not drawn as compliance.
    const segments: string[][] = [[]];
    points.forEach((p, i) => {
      if (p.value === null) segments.push([]);
      else segments.at(-1)!.push(`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
    });
    for (const seg of segments)
      if (seg.length > 0)
        parts.push(
          `<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${seg.join(' ')}"/>`,
        );
  }
  parts.push(
    `<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${pad.top + h}" stroke="#57606a"/>`,
  );
  parts.push(
    `<line x1="${pad.left}" x2="${pad.left + w}" y1="${pad.top + h}" y2="${pad.top + h}" stroke="#57606a"/>`,
  );
  const missing = points.filter((p) => p.value === null).length;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(chart.title)}">${parts.join('')}</svg>` +
    (missing > 0
      ? `<p class="src">${missing} of ${points.length} steps without data (gaps in the line).</p>`
      : '')
  );
}

function block(b: Block): string {
  switch (b.kind) {
    case 'section':
      return `</section><section><h2>${esc(b.title)}</h2>`;
    case 'heading':
      return `<h3>${esc(b.title)}</h3>`;
    case 'text':
      return `<p>${esc(b.text)}</p>`;
    case 'figures':
      return `<dl class="meta">${b.items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
    case 'table':
      if (b.rows.length === 0) return `<p class="empty">${esc(b.empty)}</p>${sources(b.queries)}`;
      return `<table><thead><tr>${b.headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>${sources(b.queries)}`;
    case 'chart':
      return `<h3>${esc(b.chart.title)}</h3>${svgChart(b.chart)}${sources(b.chart.queries)}`;
    case 'queries':
      return b.report.queries
        .map((q) => {
          const when =
            q.kind === 'instant'
              ? `instant query at ${q.time}`
              : q.kind === 'range'
                ? `range query ${q.start} to ${q.end}, step ${q.stepSeconds} s`
                : `series API, ${q.start} to ${q.end}`;
          return `<h3 id="${anchor(q.id)}">${esc(q.id)}</h3><p>${esc(q.title)} (${esc(when)})</p><pre>${esc(q.promql)}</pre>`;
        })
        .join('');
  }
}

export function renderHtml(report: Report): string {
  const title = `copa-fleet compliance report, as of ${report.at}`;
  // The first block (the report's metadata) precedes the first section; `section` closes and opens.
  const body = reportBlocks(report).map(block).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<section><h1>${esc(title)}</h1>
${body}
</section>
</body>
</html>
`;
}
