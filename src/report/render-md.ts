/** The report as Markdown (GitHub-flavoured tables), for a ticket or a wiki. */
import { type Block, type Cell, reportBlocks } from './document.ts';
import type { ChartPoint, Report } from './model.ts';

const escape = (cell: Cell): string =>
  cell === null ? '-' : String(cell).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function block(b: Block): string {
  switch (b.kind) {
    case 'section':
      return `## ${b.title}\n`;
    case 'heading':
      return `### ${b.title}\n`;
    case 'text':
      return `${b.text}\n`;
    case 'figures':
      return `${b.items.map(([k, v]) => `- **${k}**: ${v}`).join('\n')}\n`;
    case 'table': {
      const source = `Source: ${b.queries.map((q) => `[${q}](#${q.toLowerCase()})`).join(', ')}`;
      if (b.rows.length === 0) return `${b.empty}\n\n${source}\n`;
      const lines = [
        `| ${b.headers.map(escape).join(' | ')} |`,
        `|${b.headers.map(() => '---').join('|')}|`,
        ...b.rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
      ];
      return `${lines.join('\n')}\n\n${source}\n`;
    }
    case 'chart': {
      const { chart } = b;
      const fmt = (v: number) => (chart.unit === 'ratio' ? `${(v * 100).toFixed(1)} %` : String(v));
      const lines =
        chart.stepSeconds >= 86_400
          ? [
              '| day ending | value |',
              '|---|---:|',
              ...chart.points.map(
                (p) => `| ${p.time} | ${p.value === null ? 'no data' : fmt(p.value)} |`,
              ),
            ]
          : [
              '| day (UTC) | min | max | steps without data |',
              '|---|---:|---:|---:|',
              ...dailyRange(chart.points).map(
                (d) =>
                  `| ${d.day} | ${d.min === null ? '-' : fmt(d.min)} | ${d.max === null ? '-' : fmt(d.max)} | ${d.missing} |`,
              ),
            ];
      return `### ${chart.title}\n\n${lines.join('\n')}\n\nSource: ${chart.queries.map((q) => `[${q}](#${q.toLowerCase()})`).join(', ')}\n`;
    }
    case 'queries':
      return b.report.queries
        .map((q) => {
          const when =
            q.kind === 'instant'
              ? `instant query at ${q.time}`
              : q.kind === 'range'
                ? `range query ${q.start} to ${q.end}, step ${q.stepSeconds} s`
                : `series API, ${q.start} to ${q.end}`;
          return `<a id="${q.id.toLowerCase()}"></a>\n**${q.id}**: ${q.title} (${when})\n\n\`\`\`promql\n${q.promql}\n\`\`\`\n`;
        })
        .join('\n');
  }
}

export function renderMarkdown(report: Report): string {
  return `# copa-fleet compliance report, as of ${report.at}\n\n${reportBlocks(report).map(block).join('\n')}`;
}

/** A fine-grained series as one row per UTC day: a markdown table of hundreds of points helps no reader. */
function dailyRange(
  points: readonly ChartPoint[],
): Array<{ day: string; min: number | null; max: number | null; missing: number }> {
  const days = new Map<string, { min: number | null; max: number | null; missing: number }>();
  for (const p of points) {
    const day = p.time.slice(0, 10);
    const d = days.get(day) ?? { min: null, max: null, missing: 0 };
    if (p.value === null) d.missing += 1;
    else {
      d.min = d.min === null ? p.value : Math.min(d.min, p.value);
      d.max = d.max === null ? p.value : Math.max(d.max, p.value);
    }
    days.set(day, d);
  }
  return [...days.entries()].map(([day, d]) => ({ day, ...d }));
}
