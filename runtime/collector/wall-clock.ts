/**
 * The collector's notion of "now" for everything time decides: CVE ages, SLA breaches, whether an
 * exception is in force. The system clock in production; tests shift it with an offset file
 * (`COPA_FLEET_COLLECTOR_CLOCK_OFFSET_FILE`: seconds to add, re-read on every tick) so that an
 * exception can lapse while the process runs, with no event and no restart.
 */
import { readFileSync } from 'node:fs';

export const CLOCK_OFFSET_FILE_ENV = 'COPA_FLEET_COLLECTOR_CLOCK_OFFSET_FILE';

export class WallClock {
  private offsetMs = 0;

  constructor(private readonly offsetFile: string | undefined) {
    this.refresh();
  }

  static fromEnv(env: NodeJS.ProcessEnv): WallClock {
    const file = env[CLOCK_OFFSET_FILE_ENV];
    return new WallClock(file === undefined || file === '' ? undefined : file);
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Re-reads the offset file (absent or unreadable: no offset). */
  refresh(): void {
    if (this.offsetFile === undefined) return;
    let seconds: number;
    try {
      seconds = Number(readFileSync(this.offsetFile, 'utf8').trim());
    } catch {
      seconds = 0;
    }
    this.offsetMs = Number.isFinite(seconds) ? seconds * 1000 : 0;
  }
}
