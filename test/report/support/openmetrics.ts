/**
 * Writes scripted series as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`:
 * every series sampled at each scrape time of [start, end] where its value function returns a
 * number (undefined: no sample, as when the target was not scraped). One metric family at a time,
 * as OpenMetrics requires; written in chunks, so millions of samples never exist as one string.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface ScriptedSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Value at Unix time t (seconds), or undefined for no sample. */
  readonly value: (t: number) => number | undefined;
  /** Optional bounds (seconds) outside which the series has no samples: saves calls. */
  readonly from?: number;
  readonly to?: number;
  /** Sample times other than the timeline's scrapes (a recording rule's evaluations): `start + k * seconds`. */
  readonly grid?: { readonly start: number; readonly seconds: number };
}

export interface Timeline {
  readonly start: number;
  readonly end: number;
  readonly scrapeSeconds: number;
}

const labelText = (labels: Readonly<Record<string, string>>): string =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',')}}`;

/** Writes the file; returns the number of samples. */
export function writeOpenMetrics(
  file: string,
  timeline: Timeline,
  series: Iterable<ScriptedSeries>,
): number {
  const byName = new Map<string, ScriptedSeries[]>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const fd = openSync(file, 'w');
  let samples = 0;
  let chunk: string[] = [];
  let bytes = 0;
  const flush = () => {
    writeSync(fd, chunk.join(''));
    chunk = [];
    bytes = 0;
  };
  try {
    for (const [name, list] of byName) {
      for (const s of list) {
        const prefix = `${name}${labelText(s.labels)} `;
        const from = Math.max(timeline.start, s.from ?? timeline.start);
        const to = Math.min(timeline.end, s.to ?? timeline.end);
        const grid = s.grid ?? { start: timeline.start, seconds: timeline.scrapeSeconds };
        const first = grid.start + Math.ceil((from - grid.start) / grid.seconds) * grid.seconds;
        for (let t = first; t <= to; t += grid.seconds) {
          const v = s.value(t);
          if (v === undefined) continue;
          const line = `${prefix}${v} ${t}\n`;
          chunk.push(line);
          bytes += line.length;
          samples += 1;
          if (bytes > 1 << 20) flush();
        }
      }
    }
    chunk.push('# EOF\n');
    flush();
  } finally {
    closeSync(fd);
  }
  return samples;
}
