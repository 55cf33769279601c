import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerDoctor } from './doctor.js';
import { registerEvaluate } from './evaluate.js';
import { registerGenerate } from './generate.js';
import { registerInit } from './init.js';
import { EXIT_USAGE, colors, reportError } from './output.js';
import { registerRecord } from './record.js';
import { registerRun } from './run.js';

/** Adds one top-level command (with its options, subcommands and action) to the program. */
export type RegisterCommand = (program: Command) => void;

/**
 * The commands, in the order `--help` lists them. A new command is one file under src/cli/
 * exporting a RegisterCommand, plus its line here.
 */
const COMMANDS: RegisterCommand[] = [registerInit, registerRecord, registerGenerate, registerRun, registerEvaluate, registerDoctor];

function packageVersion(): string {
  // The same relative path works from src/cli (tests) and dist/cli (the published package).
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The `fluxloop` program with every command registered; it throws instead of exiting. */
export function buildProgram(): Command {
  const program = new Command('fluxloop')
    .description('Record the arguments your AI agent really receives, and replay them in experiments.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--project-dir <dir>', 'project root (default: $FLUXLOOP_PROJECT_DIR or the current directory)')
    .option('--debug', 'print stack traces of unexpected errors')
    // Set before any command is added: subcommands copy these settings when they are created.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      outputError: (text, write) => write(colors.red(`fluxloop: ${text.replace(/^error: /, '')}`)),
    });
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI with `argv` (as in process.argv) and sets process.exitCode; it never calls process.exit. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the help, version or usage error already.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    const debug = program.opts().debug === true || argv.includes('--debug');
    process.exitCode = reportError(err, debug);
  }
}
