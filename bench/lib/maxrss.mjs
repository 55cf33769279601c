// Preloaded by runNode({ rss: true }): the process's peak resident set, written as it exits,
// since a parent cannot read a child's rusage through child_process.
import fs from 'node:fs';

process.on('exit', () => fs.writeFileSync(process.env.FLUXLOOP_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));
