import fs from 'node:fs';
import path from 'node:path';
import { isScalar, isSeq, LineCounter, type Node } from 'yaml';
import { ConfigError } from './errors.js';
import { readLlmConfig } from './llm.js';
import { configPath, projectRelative } from './project.js';
import { parseSimulationConfig } from './simulation.js';
import { EVALUATOR_TYPES, LLM_DEFAULTS, type EvaluationConfig, type EvaluatorConfig, type EvaluatorType, type LlmConfig } from './types.js';
import { parseYaml, Validator } from './validator.js';

/** What a terminated_by's empty list is told to write. */
const TERMINATION_EXAMPLES = 'user_satisfied, script_complete, max_turns_reached';

const SECTION_KEYS = ['pass_threshold', 'pass_rate_threshold', 'evaluators', 'llm'] as const;
const COMMON_KEYS = ['type', 'name', 'weight', 'threshold'] as const;
/** The keys each evaluator takes besides the common ones, and those it cannot do without. */
const EVALUATOR_KEYS: Record<EvaluatorType, { keys: readonly string[]; required: readonly string[] }> = {
  output_not_empty: { keys: [], required: [] },
  contains: { keys: ['value', 'case_sensitive'], required: ['value'] },
  not_contains: { keys: ['value', 'case_sensitive'], required: ['value'] },
  matches_regex: { keys: ['pattern', 'flags'], required: ['pattern'] },
  json_valid: { keys: [], required: [] },
  latency_under: { keys: ['max_ms'], required: ['max_ms'] },
  success: { keys: [], required: [] },
  similarity: { keys: [], required: [] },
  llm_judge: { keys: ['rubric', 'model', 'scope'], required: ['rubric'] },
  same_path: { keys: [], required: [] },
  max_turns_under: { keys: ['max_turns'], required: ['max_turns'] },
  terminated_by: { keys: ['reasons'], required: ['reasons'] },
};
const SCOPES = ['turn', 'conversation'] as const;
const DEFAULT_THRESHOLDS: Partial<Record<EvaluatorType, number>> = { similarity: 0.8, llm_judge: 0.7 };

/** What `fluxloop evaluate` checks when nothing is configured: that each run succeeded and said something. */
function defaultEvaluators(): EvaluatorConfig[] {
  return [
    { type: 'success', name: 'success', weight: 1, threshold: 1 },
    { type: 'output_not_empty', name: 'output_not_empty', weight: 1, threshold: 1 },
  ];
}

/** The section when nothing is set: every evaluator must pass. */
function defaults(llm: LlmConfig): Omit<EvaluationConfig, 'source'> {
  return { pass_threshold: 1, pass_rate_threshold: null, evaluators: defaultEvaluators(), llm };
}

class EvaluationValidator extends Validator {
  section(node: Node | null, keyNode: Node | null, prefix: string, judgeBase: LlmConfig): Omit<EvaluationConfig, 'source'> {
    const config = defaults(judgeBase);
    if (this.isEmpty(node)) return config;
    const field = (key: string) => (prefix ? `${prefix}.${key}` : key);
    for (const { key, keyNode: k, value } of this.mapping(node, prefix || undefined, keyNode)) {
      switch (key) {
        case 'pass_threshold':
          config.pass_threshold = this.number(value, field(key), 0, 1) ?? config.pass_threshold;
          break;
        case 'pass_rate_threshold':
          config.pass_rate_threshold = this.rate(value, field(key)) ?? null;
          break;
        case 'evaluators':
          config.evaluators = this.evaluators(value, field(key));
          break;
        case 'llm':
          config.llm = readLlmConfig(this, value, k, field(key), judgeBase, false);
          break;
        default:
          this.unknownKey(key, k, prefix, SECTION_KEYS);
      }
    }
    return config;
  }

  /**
   * A share of runs from 0 to 1, as pass_threshold is. `80` or `80%` is refused with the number to
   * write: read as a share, 80 would be a gate that nothing passes.
   */
  rate(node: Node | null, field: string): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const percent = typeof v === 'number' && v > 1 && v <= 100 ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? parseFloat(v) : undefined;
    const found = typeof v === 'string' ? JSON.stringify(v.trim()) : String(v);
    if (percent !== undefined && percent <= 100) this.fail(`must be a number from 0 to 1, found ${found}; for ${percent}% write ${Number((percent / 100).toFixed(6))}`, node, field);
    return this.number(node, field, 0, 1);
  }

  evaluators(node: Node | null, field: string): EvaluatorConfig[] {
    if (this.isEmpty(node)) return defaultEvaluators();
    if (!isSeq(node)) this.fail(`must be a list of evaluators, found ${this.describe(node)}`, node, field);
    if (node.items.length === 0) this.fail(`must list at least one evaluator (types: ${EVALUATOR_TYPES.join(', ')})`, node, field);
    const names = new Set<string>();
    return node.items.map((raw, i) => {
      const item = this.resolve(raw);
      const { config, named } = this.evaluator(item ?? node, `${field}[${i}]`);
      // Repeats of a type get numbered names, so that reasons and reports can tell them apart.
      let name = config.name;
      for (let n = 2; names.has(name); n++) {
        if (named) this.fail(`duplicate evaluator name ${JSON.stringify(name)}`, item, `${field}[${i}].name`);
        name = `${config.name}_${n}`;
      }
      names.add(name);
      return { ...config, name };
    });
  }

  /** An evaluator: a mapping with its `type`, or just the type's name for one that needs nothing more. */
  evaluator(node: Node, field: string): { config: EvaluatorConfig; named: boolean } {
    const bare = isScalar(node) && typeof node.value === 'string';
    const entries = bare ? [] : this.mapping(node, field, node);
    const typeEntry = bare ? { value: node, keyNode: node } : entries.find((e) => e.key === 'type');
    const typeField = bare ? field : `${field}.type`;
    if (typeEntry === undefined) this.fail(`has no "type" (types: ${EVALUATOR_TYPES.join(', ')})`, node, field);
    const type = this.nonEmpty(typeEntry.value, typeField) as EvaluatorType | undefined;
    if (type === undefined) this.fail(`must be one of ${EVALUATOR_TYPES.join(', ')}`, typeEntry.value ?? typeEntry.keyNode, typeField);
    if (!EVALUATOR_TYPES.includes(type)) this.unknownValue('evaluator type', type, typeEntry.value, typeField, EVALUATOR_TYPES);
    const config: EvaluatorConfig = { type, name: type, weight: 1, threshold: DEFAULT_THRESHOLDS[type] ?? 1 };
    const { keys, required } = EVALUATOR_KEYS[type];
    let named = false;
    for (const { key, keyNode, value } of entries) {
      const f = `${field}.${key}`;
      switch (key) {
        case 'type':
          break;
        case 'name':
          config.name = this.nonEmpty(value, f) ?? config.name;
          named = true;
          break;
        case 'weight':
          config.weight = this.number(value, f, 0, 1000) ?? config.weight;
          break;
        case 'threshold':
          config.threshold = this.number(value, f, 0, 1) ?? config.threshold;
          break;
        default:
          if (!keys.includes(key)) this.unknownKey(key, keyNode, `${field} (${type})`, [...COMMON_KEYS, ...keys]);
          this.typeField(config, key, value, f);
      }
    }
    for (const key of required) {
      if (config[key as keyof EvaluatorConfig] === undefined) this.fail(`${type} needs "${key}"`, node, field);
    }
    return { config, named };
  }

  typeField(config: EvaluatorConfig, key: string, value: Node | null, field: string): void {
    switch (key) {
      case 'value':
      case 'rubric':
      case 'model':
        config[key] = this.nonEmpty(value, field);
        break;
      case 'case_sensitive':
        config.case_sensitive = this.boolean(value, field);
        break;
      case 'max_ms':
        config.max_ms = this.number(value, field, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'scope':
        config.scope = this.oneOf(value, field, SCOPES);
        break;
      case 'max_turns':
        // A conversation makes at least one turn: under 2 nothing could pass.
        config.max_turns = this.integerIn(value, field, 2, 1000);
        break;
      case 'reasons': {
        const reasons = this.stringList(value, field, (reason, item, f) => {
          if (reason.trim() === '') this.fail('must not be empty', item, f);
        });
        if (!this.isEmpty(value) && reasons.length === 0) this.fail(`must list at least one termination reason, e.g. [${TERMINATION_EXAMPLES}]`, value, field);
        config.reasons = reasons.length === 0 ? undefined : reasons;
        break;
      }
      case 'pattern':
      case 'flags': {
        config[key] = this.string(value, field);
        const error = regexError(config.pattern ?? '', config.flags);
        if (error) this.fail(`is not a valid regular expression: ${error}`, value, field);
      }
    }
  }
}

function regexError(pattern: string, flags: string | undefined): string | undefined {
  try {
    new RegExp(pattern, flags);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^Invalid (regular expression|flags supplied to RegExp constructor): /, '');
  }
}

/** The judge's defaults: the input generator's endpoint, at temperature 0 so that verdicts repeat. */
function judgeDefaults(generation?: LlmConfig): LlmConfig {
  return { ...(generation ?? LLM_DEFAULTS), temperature: 0 };
}

/**
 * Checks evaluation config text: either the section's keys at the top level
 * (`configs/evaluation.yaml`) or under `evaluation:` (also `configs/simulation.yaml`).
 * `file` is the path shown in messages.
 */
export function parseEvaluationConfig(text: string, file: string, judgeBase: LlmConfig = judgeDefaults(), inSimulation = false): EvaluationConfig {
  const lineCounter = new LineCounter();
  const doc = parseYaml(text, file, lineCounter);
  const v = new EvaluationValidator(doc, lineCounter, file);
  const root = v.resolve(doc.contents);
  const top = v.isEmpty(root) ? [] : v.mapping(root, undefined, root);
  const wrapped = top.find((e) => e.key === 'evaluation');
  // Beside `evaluation:`, configs/evaluation.yaml has nothing else to say; simulation.yaml has its other sections.
  const stray = wrapped && !inSimulation ? top.find((e) => e.key !== 'evaluation') : undefined;
  if (stray) v.unknownKey(stray.key, stray.keyNode, '', ['evaluation']);
  const section = wrapped ? v.section(wrapped.value, wrapped.keyNode, 'evaluation', judgeBase) : v.section(root, null, '', judgeBase);
  return { ...section, source: file };
}

/** `configs/evaluation.yaml` beside `configs/simulation.yaml`. */
export function evaluationConfigPath(root: string): string {
  return path.join(path.dirname(configPath(root)), 'evaluation.yaml');
}

/**
 * The evaluation config of a project: `configs/evaluation.yaml`, else the `evaluation:` section of
 * `configs/simulation.yaml`, else the defaults; the judge's endpoint defaults to the input
 * generator's. Both files at once is an error, since one would be silently ignored.
 */
export function loadEvaluationConfig(root: string): EvaluationConfig {
  const file = evaluationConfigPath(root);
  const simulationFile = projectRelative(root, configPath(root));
  const simulationText = readIfExists(configPath(root));
  const simulation = simulationText === undefined ? undefined : parseSimulationConfig(simulationText, simulationFile);
  const base = judgeDefaults(simulation?.input_generation.llm);
  const text = readIfExists(file);
  const inSimulation = simulation !== undefined && 'evaluation' in simulation.raw;
  if (text !== undefined) {
    if (inSimulation) {
      throw new ConfigError(`evaluation is configured twice, in ${projectRelative(root, file)} and under "evaluation:" in ${simulationFile}; keep one`);
    }
    return parseEvaluationConfig(text, projectRelative(root, file), base);
  }
  if (inSimulation) return parseEvaluationConfig(simulationText!, simulationFile, base, true);
  return { ...defaults(base), source: '(defaults)' };
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return undefined;
  }
}
