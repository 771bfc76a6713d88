// Preloaded with `node --import` into a benchmarked process: reports its peak RSS on exit, so the
// benchmark measures the real CLI process (start-up included) without external tools.
import { writeFileSync } from 'node:fs';

const target = process.env.COPA_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    // resourceUsage().maxRSS is in kilobytes.
    writeFileSync(target, String(process.resourceUsage().maxRSS * 1024));
  });
}
