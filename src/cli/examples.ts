import type { Command } from 'commander';

/**
 * The examples at the end of each help screen, by command path (`''` is the program itself):
 * real commands, as a user types them in a project. A test checks that every command has some,
 * and that each names a command and options that exist.
 */
const EXAMPLES: Record<string, string[]> = {
  '': [
    'npx fluxloop init                                   # scaffold .env and configs/',
    'npx fluxloop record enable                          # then: node --import fluxloop/register app/main.js',
    'npx fluxloop generate inputs                        # variations of your recorded messages',
    'npx fluxloop run experiment --evaluate              # replay them and score the runs',
    'npx fluxloop env                                    # versions, project, config files, keys (never their values)',
  ],
  init: ['npx fluxloop init', 'npx fluxloop init --force                           # rewrite the files that exist', 'npx fluxloop --project-dir ../my-app init'],
  record: ['npx fluxloop record enable', 'npx fluxloop record status', 'npx fluxloop record add app/agent.js --at 42', 'npx fluxloop record disable', 'npx fluxloop record clear'],
  'record add': [
    'npx fluxloop record add app/agent.js --at 42        # the function at line 42: app/agent.js:handle, or app/agent.js:42',
    'npx fluxloop record add app/agent.js --at 42:17 --json',
    'npx fluxloop record add app/agent.js:Agent.reply    # a target as you name it',
  ],
  'record enable': ['npx fluxloop record enable', 'node --import fluxloop/register app/main.js         # then run your app as always'],
  'record disable': ['npx fluxloop record disable                         # recording off; replay keeps the recordings', 'npx fluxloop record disable --disable-replay        # replay off too'],
  'record clear': ['npx fluxloop record clear                           # asks first', 'npx fluxloop record clear --yes                     # in a script'],
  'record status': ['npx fluxloop record status', 'npx fluxloop record status --json'],
  generate: ['npx fluxloop generate inputs --dry-run'],
  'generate inputs': [
    'npx fluxloop generate inputs --dry-run              # the plan and a preview; writes nothing',
    'npx fluxloop generate inputs                        # your recorded messages when replay is on, else base_inputs',
    'npx fluxloop generate inputs --from-config --strategy typo --overwrite',
    'npx fluxloop generate inputs --mode llm --limit 50 --overwrite',
  ],
  run: ['npx fluxloop run experiment'],
  'run experiment': [
    "npx fluxloop run experiment --dry-run               # the plan and the first run's arguments",
    'npx fluxloop run experiment --limit 5 --verbose     # each run as it ends',
    'npx fluxloop run experiment --evaluate --fail-on-error',
    'FLUXLOOP_PROGRESS=json npx fluxloop run experiment --evaluate --json   # for tools: one JSON object, progress as JSON lines on stderr',
    'npx fluxloop run experiment --shard 2/3             # the second of three shares, in a CI matrix',
    'npx fluxloop run experiment --resume experiments/chat_20250102_090000   # only the runs it lacks',
    'npx fluxloop run experiment --otlp http://localhost:4318   # each run as a trace to an OpenTelemetry collector',
    'npx fluxloop run experiment --queue redis://queue.internal:6379   # the runs made by `fluxloop worker`s',
  ],
  worker: [
    'npx fluxloop worker --queue redis://queue.internal:6379 --concurrency 10   # on each machine, in the same project',
    'npx fluxloop worker --verbose                       # runner.queue from the config; a line per run',
  ],
  merge: ['npx fluxloop merge experiments shard-1 shard-2 shard-3 --output experiments/merged'],
  'merge experiments': ['npx fluxloop merge experiments shard-1 shard-2 shard-3 --output experiments/merged', 'npx fluxloop merge experiments shards/* --output merged --json'],
  evaluate: ['npx fluxloop evaluate experiment'],
  'evaluate experiment': [
    'npx fluxloop evaluate experiment                    # the latest experiment',
    'npx fluxloop evaluate experiment experiments/chat_20250102_090000 --baseline experiments/chat_20250101_090000 --fail-on-regression',
  ],
  list: ['npx fluxloop list experiments', 'npx fluxloop list inputs'],
  'list experiments': ['npx fluxloop list experiments                       # the newest 10', 'npx fluxloop list experiments --limit 3 --json'],
  'list inputs': ['npx fluxloop list inputs', 'npx fluxloop list inputs --json                     # each input with its line in the file'],
  doctor: ['npx fluxloop doctor', 'npx fluxloop doctor --json'],
  env: ['npx fluxloop env', 'npx fluxloop env --json'],
  version: ['npx fluxloop version', 'npx fluxloop -v'],
};

/** A command's path below the program: `record status`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The examples of a command, as its help screen ends with them. */
export function examplesOf(command: Command): string[] {
  return EXAMPLES[commandPath(command)] ?? [];
}

/** Adds its examples to the help screen of the program and of every command under it. */
export function addExamples(command: Command): void {
  const examples = examplesOf(command);
  if (examples.length > 0) command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  ${line}`).join('\n')}`);
  for (const sub of command.commands) addExamples(sub);
}
