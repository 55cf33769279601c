import type { Command } from 'commander';
import { runDoctor, type Check, type CheckStatus } from '../doctor/checks';
import { integerAtLeast } from './arguments';
import { EXIT_FAILURE, colors, globalOptions, print, existingProjectRootOf, table } from './output';

const MARKS: Record<CheckStatus, string> = {
  ok: colors.green('✓'),
  warn: colors.yellow('!'),
  fail: colors.red('✗'),
  skip: colors.dim('-'),
};

function line(c: Check): string[] {
  const detail = c.status === 'skip' ? colors.dim(c.detail) : c.detail;
  return [MARKS[c.status], c.title, c.fix === undefined ? detail : `${detail}  ${colors.cyan(`→ ${c.fix}`)}`];
}

function printReport(checks: Check[]): void {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const [failed, warned] = [count('fail'), count('warn')];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary =
    failed > 0
      ? colors.red(`${plural(failed, 'problem')} to fix${warned ? `, ${plural(warned, 'warning')}` : ''}.`)
      : warned > 0
        ? colors.yellow(`No problems, ${plural(warned, 'warning')}.`)
        : colors.green('No problems.');
  print(...table(checks.map(line)), '', summary);
}

/** Registers `fluxloop doctor`. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the project: Node.js, the fluxloop install, .env and configs, the recording folder and file, each target, the recordings against runner.target (override path, provider paths, parameters), the LLM key')
    .option('--json', 'print {"ok", "checks": [{id, title, status, detail, fix}]} on stdout')
    .option('--timeout <ms>', 'how long each target module may take to load (default 10000)', integerAtLeast(1))
    .action(async (options: { json?: boolean; timeout?: number }, command: Command) => {
      const root = existingProjectRootOf(command);
      const debug = globalOptions(command).debug === true;
      const report = await runDoctor({
        root,
        timeoutMs: options.timeout,
        onUnexpected: (error) => {
          if (debug && error instanceof Error && error.stack) process.stderr.write(`${colors.dim(error.stack)}\n`);
        },
      });
      if (options.json) print(JSON.stringify(report, null, 2));
      else printReport(report.checks);
      if (!report.ok) process.exitCode = EXIT_FAILURE;
    });
}
