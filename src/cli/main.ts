import { Command, CommanderError, Option } from 'commander';
import { fluxloopVersion } from '../doctor/info.js';
import { registerDoctor } from './doctor.js';
import { registerEnv } from './env.js';
import { registerEvaluate } from './evaluate.js';
import { addExamples } from './examples.js';
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
const COMMANDS: RegisterCommand[] = [registerInit, registerRecord, registerGenerate, registerRun, registerEvaluate, registerDoctor, registerEnv];

/** The `fluxloop` program with every command registered; it throws instead of exiting. */
export function buildProgram(): Command {
  const version = fluxloopVersion();
  const program = new Command('fluxloop')
    .description('Record the arguments your AI agent really receives, and replay them in experiments.')
    // -v as FluxLoop's CLI has it, and -V as commander's default. A program option is taken
    // wherever it stands, so no command may have a -v or -V of its own (a test checks).
    .version(version, '-v, --version', 'print the version (also -V)')
    .addOption(new Option('-V').hideHelp())
    .helpOption('-h, --help', 'show help')
    .option('--project-dir <dir>', 'project root (default: $FLUXLOOP_PROJECT_DIR or the current directory)')
    .option('--debug', 'print stack traces of unexpected errors')
    // Set before any command is added: subcommands copy these settings when they are created.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      outputError: (text, write) => write(colors.red(`fluxloop: ${text.replace(/^error: /, '')}`)),
    });
  program.on('option:V', () => {
    process.stdout.write(`${version}\n`);
    throw new CommanderError(0, 'commander.version', version);
  });
  for (const register of COMMANDS) register(program);
  addExamples(program);
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
