import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { evaluationConfigPath } from '../config/evaluation.js';
import { mergeGitignore } from '../config/gitignore.js';
import { DEFAULT_RECORDING_FILE, configPath, envPath, projectRelative } from '../config/project.js';
import { findEntry } from '../doctor/entry.js';
import { needsCompiler } from '../replay/typescript.js';
import { colors, print, projectRootOf, table } from './output.js';

const ENV_TEMPLATE = `# FluxLoop settings for this project, read by \`node --import fluxloop/register\`.
# Variables already set in the environment win over this file.
# It may hold API keys: keep it out of version control.

# Record the arguments of the functions listed under recording.targets in
# configs/simulation.yaml: true or false. \`fluxloop record enable\` and
# \`fluxloop record disable\` switch it.
FLUXLOOP_RECORD_ARGS=false

# Where records go, relative to the project root (default: ${DEFAULT_RECORDING_FILE}).
# FLUXLOOP_RECORDING_FILE=${DEFAULT_RECORDING_FILE}

# Key for the model that \`fluxloop generate inputs --mode llm\` uses to write input variations.
# OPENAI_API_KEY=sk-...
`;

const CONFIG_TEMPLATE = `# FluxLoop simulation config.
# Paths are relative to the project root (the folder holding this configs/ folder).

# What \`node --import fluxloop/register your/app.js\` records while FLUXLOOP_RECORD_ARGS=true.
recording:
  # The functions whose arguments are recorded, one per line, as
  #   path/to/module.js:name               a function, exported or not (the entry module too)
  #   path/to/module.js:object.method      a method of a module-level object
  #   path/to/module.js:ClassName.method   a class method (static, #private, getter too)
  #   path/to/module.js:default            the default export (or default.method)
  #   path/to/module.js:42                 the function that begins on line 42, e.g. an inline handler
  # targets:
  #   - app/agent.js:Agent.reply
  #   - app/tools.js:searchDocs
  #   - app/server.js:42

  # One JSON line per call; FLUXLOOP_RECORDING_FILE wins over it.
  file: ${DEFAULT_RECORDING_FILE}
  # Past this many MB the file is moved to a timestamped file beside it
  # (args_recording.<time>.jsonl), which replays still read; unset, it only grows.
  # \`fluxloop record clear\` removes them all.
  # max_file_mb: 100

  # Keys whose values are masked in records, on top of the built-in ones
  # (passwords, tokens, API keys...).
  redact_keys: []
  # Regular expressions whose matches in string values are masked.
  # redact_patterns:
  #   - "\\\\b\\\\d{16}\\\\b"

  # What a recorded call calls while it runs, recorded with it so that a replay can answer it:
  # outbound HTTP (fetch, http.request), LLM API calls, and your tool functions.
  # downstream:
  #   http: true
  #   llm: true
  #   targets:
  #     - app/tools.js:sendEmail

# How experiments call your agent (\`fluxloop run experiment\`).
runner:
  # target: app/agent.js:Agent.reply
  # isolation: fresh          # shared | fresh (a fresh module per run) | worker (a thread per run)
  # concurrency: 4
  # timeout_ms: 60000
  # retries: 0

# Replaying recorded arguments in experiments: each input's text replaces one
# parameter of a recorded call, every other argument stays as it was recorded.
replay_args:
  enabled: false
  recording_file: ${DEFAULT_RECORDING_FILE}
  # Where an input's text goes in the recorded arguments.
  override_param_path: kwargs.message
  # Which recordings: all, first, last, or a number (the first N).
  # select: all
  # Arguments that cannot be recorded (callbacks, clients), and the export that
  # builds each of them at replay time:
  # callable_providers:
  #   args.1.send: builtin:collector.send
  # The recorded calls that share a value here are one conversation (see multi_turn).
  # conversation:
  #   key: kwargs.sessionId
  #   history_path: kwargs.history   # where the agent gets the conversation so far, if it does
  # How a replay answers what the agent calls: from the recording (stub), for real
  # (live), or not at all (deny). By default the model meets each new input and
  # nothing else leaves the process; \`--downstream llm=stub\` runs fully offline.
  # downstream:
  #   llm: live                # live | stub
  #   http: stub               # live | stub | deny
  #   tools: stub              # live | stub
  #   unmatched: error         # error | live: a call the recording cannot answer

# Conversations instead of single calls: a simulated user carries each input on.
# multi_turn:
#   enabled: true
#   max_turns: 8
#   resume_from: 2             # replay turn 1 as recorded, the input at turn 2
#   supervisor:
#     provider: mock           # mock (scripted, no network) | openai (input_generation.llm's endpoint)
#     scripted_questions: ["And how long will that take?"]

# The inputs that experiments start from; \`fluxloop generate inputs\` writes variations of them.
base_inputs:
  - "How do I reset my password?"
  - input: "I was charged twice this month, can I get a refund?"
    metadata: { topic: billing }

# Simulated users: persona_based variations (and in llm mode, all of them) are made once per persona.
# personas:
#   - name: impatient
#     description: in a hurry, writes short messages
#     characteristics: [busy, terse]
#     expertise_level: novice     # novice | intermediate | expert
#     language: en
#     goals: [get a refund today]

# \`fluxloop generate inputs\`: variations of base_inputs, written to inputs_file.
input_generation:
  mode: deterministic          # deterministic (no network, same seed, same file) | llm
  # rephrase, typo, verbose, concise, noise, persona_based, adversarial
  strategies: [rephrase, typo, verbose, concise]
  variation_count: 2           # per base input and strategy (and persona, for persona_based)
  seed: 42
  # typo_rate: 0.05
  # llm:                       # an OpenAI-compatible chat completions endpoint
  #   base_url: https://api.openai.com/v1
  #   model: gpt-4o-mini
  #   api_key_env: OPENAI_API_KEY   # the key stays in .env or the environment
  #   concurrency: 4
  #   timeout_ms: 30000
  #   max_retries: 3

# Experiments read their inputs here when the file exists, else base_inputs.
inputs_file: inputs/generated.yaml
`;

const EVALUATION_TEMPLATE = `# FluxLoop evaluation config, read by \`fluxloop evaluate experiment\` and
# \`fluxloop run experiment --evaluate\`.

# The weighted share of evaluators a run must pass: 1.0 means all of them.
pass_threshold: 1.0

evaluators:
  - type: success              # the run ended ok, not in an error or a timeout
  - type: output_not_empty
  # - type: not_contains
  #   value: "ERROR"
  #   weight: 2                # counts twice in the run's score
  # - type: contains           # also: case_sensitive: false
  #   value: "order"
  # - type: matches_regex
  #   pattern: "^(Hi|Hello)"
  #   flags: i
  # - type: json_valid
  # - type: latency_under
  #   max_ms: 2000
  # - type: similarity         # to the baseline's output, with --baseline
  #   threshold: 0.8
  # - type: llm_judge
  #   rubric: "Does the reply answer the question politely?"
  #   threshold: 0.7
  # - type: same_path          # the run's downstream calls followed its recording's
  # With multi_turn, the evaluators above judge each turn; these judge whole conversations:
  # - type: max_turns_under    # fewer turns than max_turns
  #   max_turns: 6
  # - type: terminated_by      # ended for one of these reasons
  #   reasons: [user_satisfied, script_complete]
  # - type: llm_judge
  #   scope: conversation      # the whole transcript, not one reply
  #   rubric: "Did the agent resolve the user's problem?"

# The judge's endpoint; input_generation.llm of configs/simulation.yaml by default.
# llm:
#   base_url: https://api.openai.com/v1
#   model: gpt-4o-mini
#   api_key_env: OPENAI_API_KEY
`;

interface Entry {
  file: string;
  /** Files are written; entries without content are folders. */
  content?: string;
  mode?: number;
}

type Outcome = 'created' | 'overwritten' | 'updated' | 'kept' | 'exists';

function scaffold(entry: Entry, force: boolean): Outcome {
  if (entry.content === undefined) {
    if (fs.existsSync(entry.file)) return 'exists';
    fs.mkdirSync(entry.file, { recursive: true });
    return 'created';
  }
  const existed = fs.existsSync(entry.file);
  if (existed && !force) return 'kept';
  fs.mkdirSync(path.dirname(entry.file), { recursive: true });
  fs.writeFileSync(entry.file, entry.content, { mode: entry.mode });
  return existed ? 'overwritten' : 'created';
}

/** Creates .gitignore, or adds the lines it lacks: never a line twice, the user's lines untouched (so --force does not apply). */
function ignore(file: string): { outcome: Outcome; note: string } {
  let existing: string | undefined;
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { text, added } = mergeGitignore(existing);
  if (added.length > 0) fs.writeFileSync(file, text);
  const list = added.join(', ');
  if (existing === undefined) return { outcome: 'created', note: `ignores ${list}` };
  return added.length > 0 ? { outcome: 'updated', note: `added ${list}` } : { outcome: 'kept', note: colors.dim('already ignores what fluxloop writes') };
}

const OUTCOME_COLORS: Record<Outcome, (s: string) => string> = {
  created: colors.green,
  overwritten: colors.yellow,
  updated: colors.green,
  kept: colors.dim,
  exists: colors.dim,
};

/** How the app is started with the recorder: its entry module when package.json names it, under tsx for TypeScript. */
function startCommand(root: string): string {
  const entry = findEntry(root);
  if (entry === undefined) return 'node --import fluxloop/register <your app>';
  const tsx = needsCompiler(entry) ? '--import tsx ' : '';
  return `node ${tsx}--import fluxloop/register ${projectRelative(root, entry)}`;
}

/** What to do after `init`, in order: each a command or an edit, and what it is for. */
function nextSteps(root: string): string[][] {
  const config = projectRelative(root, configPath(root));
  return [
    [`list the functions to record under recording.targets in ${config}`],
    ['set runner.target there to the function experiments call'],
    ['check replay_args.override_param_path there: where each input goes in the recorded arguments (kwargs.message: the parameter named message)'],
    ['npx fluxloop record enable', 'turns recording on (.env) and replay on (the config)'],
    [startCommand(root), 'your app as always: each call of a target is recorded'],
    ['npx fluxloop record status', 'each target: hooked, and how many calls were recorded'],
    ['npx fluxloop generate inputs', 'variations of the recorded inputs (--from-recording forces them)'],
    ['npx fluxloop run experiment --evaluate', 'replays the recordings with each input, and scores the runs'],
  ];
}

/** Registers `fluxloop init`, which scaffolds .env, configs/simulation.yaml, configs/evaluation.yaml, recordings/ and inputs/, and a .gitignore. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create .env, configs/simulation.yaml, configs/evaluation.yaml, recordings/ and inputs/ in the project root, and add what they hold to .gitignore')
    .option('--force', 'overwrite files that already exist')
    .action((options: { force?: boolean }, command: Command) => {
      const root = projectRootOf(command);
      const entries: Entry[] = [
        // The .env file may hold API keys, so only its owner may read it.
        { file: envPath(root), content: ENV_TEMPLATE, mode: 0o600 },
        { file: configPath(root), content: CONFIG_TEMPLATE },
        { file: evaluationConfigPath(root), content: EVALUATION_TEMPLATE },
        { file: path.join(root, 'recordings') },
        { file: path.join(root, 'inputs') },
      ];
      const rows = entries.map((entry) => {
        const outcome = scaffold(entry, options.force === true);
        const name = projectRelative(root, entry.file) + (entry.content === undefined ? '/' : '');
        const note = outcome === 'kept' ? colors.dim('already exists; --force overwrites it') : '';
        return [OUTCOME_COLORS[outcome](outcome), name, note];
      });
      const gitignore = ignore(path.join(root, '.gitignore'));
      rows.push([OUTCOME_COLORS[gitignore.outcome](gitignore.outcome), '.gitignore', gitignore.note]);
      const cd = path.resolve(process.cwd()) === root ? [] : [[`cd ${JSON.stringify(root)}`]];
      const steps = [...cd, ...nextSteps(root)];
      // Commands in one column, what each is for beside it; an edit is a sentence of its own.
      const width = Math.max(...steps.filter((s) => s.length > 1).map(([step]) => step!.length));
      const lines = steps.map(([step, why], i) => `  ${`${i + 1}.`.padEnd(3)} ${why === undefined ? step : `${step!.padEnd(width)}  ${colors.dim(why)}`}`);
      print(
        `FluxLoop project in ${root}`,
        '',
        ...table(rows, '  '),
        '',
        'Next steps:',
        ...lines,
        '',
        `\`npx fluxloop doctor\` checks all of this at any time.`,
      );
    });
}
