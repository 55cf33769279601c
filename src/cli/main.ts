import { Command, CommanderError, Option } from 'commander';
import { fluxloopVersion } from '../version.js';
import { addExamples } from './examples.js';
import { EXIT_USAGE, colors, reportError } from './output.js';

/** Adds one top-level command (with its options, subcommands and action) to the program. */
export type RegisterCommand = (program: Command) => void;

/**
 * The commands, in the order `--help` lists them, each loaded when it is needed: a command's
 * file brings in the library it stands on, and `fluxloop record status` should not pay for
 * loading the experiment runner, the report and the doctor. A new command is one file under
 * src/cli/ exporting a RegisterCommand, plus its line here.
 */
const COMMANDS: Record<string, () => RegisterCommand> = {
  init: () => (require('./init.js') as typeof import('./init.js')).registerInit,
  record: () => (require('./record.js') as typeof import('./record.js')).registerRecord,
  generate: () => (require('./generate.js') as typeof import('./generate.js')).registerGenerate,
  run: () => (require('./run.js') as typeof import('./run.js')).registerRun,
  merge: () => (require('./merge.js') as typeof import('./merge.js')).registerMerge,
  evaluate: () => (require('./evaluate.js') as typeof import('./evaluate.js')).registerEvaluate,
  worker: () => (require('./worker.js') as typeof import('./worker.js')).registerWorker,
  list: () => (require('./list.js') as typeof import('./list.js')).registerList,
  doctor: () => (require('./doctor.js') as typeof import('./doctor.js')).registerDoctor,
  env: () => (require('./env.js') as typeof import('./env.js')).registerEnv,
};
// `env.ts` registers `version` too.
const FILE_OF: Record<string, string> = { version: 'env' };

/** The global options that take a value, which the command's name is not. */
const VALUE_OPTIONS = new Set(['--project-dir']);

/** The command `argv` names, when it names one; else undefined (help, a typo, no command). */
function commandIn(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) {
      const name = FILE_OF[arg] ?? arg;
      return name in COMMANDS ? name : undefined;
    }
  }
  return undefined;
}

/**
 * The `fluxloop` program, with every command registered or only `only`; it throws instead of
 * exiting. Help, a mistyped command and "did you mean" need them all.
 */
export function buildProgram(only?: string): Command {
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
  for (const [name, load] of Object.entries(COMMANDS)) if (only === undefined || name === only) load()(program);
  addExamples(program);
  return program;
}

/** Runs the CLI with `argv` (as in process.argv) and sets process.exitCode; it never calls process.exit. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram(commandIn(argv));
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
