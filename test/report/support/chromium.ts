/**
 * Headless Chromium (Debian package `chromium`) for the html report: screenshot and print to PDF
 * with a fresh profile, collecting every console message from its log. (Scripts are off by the
 * report's own Content-Security-Policy; `--blink-settings=scriptEnabled=false` makes headless
 * Chromium 156 write no screenshot at all.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export const CHROMIUM = '/usr/bin/chromium';
export const PDFTOTEXT = '/usr/bin/pdftotext';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumRun {
  readonly code: number;
  /** Console messages the page produced (`INFO:CONSOLE` lines of the log). */
  readonly consoleMessages: readonly string[];
  readonly log: string;
}

export async function chromium(htmlFile: string, action: readonly string[]): Promise<ChromiumRun> {
  const profile = await mkdtemp(join(tmpdir(), 'copa-fleet-chromium-'));
  try {
    const args = [
      ...FLAGS,
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      ...action,
      pathToFileURL(htmlFile).href,
    ];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        CHROMIUM,
        args,
        { timeout: 60_000, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
            output: `${stdout}${stderr}`,
          });
        },
      );
    });
    return {
      code,
      log: output,
      consoleMessages: output.split('\n').filter((line) => line.includes(':CONSOLE')),
    };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

export async function pdfText(pdf: string): Promise<string> {
  const { stdout } = await promisify(execFile)(PDFTOTEXT, ['-layout', pdf, '-'], {
    maxBuffer: 16 << 20,
  });
  return stdout;
}
