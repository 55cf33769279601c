import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../config/errors';
import { projectRelative } from '../config/project';
import type { GenerationPlan, GenerationResult } from './generate';

/** Where the inputs go: `output`, else the config's `inputs_file`; `display` is project-relative. */
export function inputsFileOf(plan: GenerationPlan, output?: string): { file: string; display: string } {
  const { root, config } = plan;
  const file = path.resolve(root, output ?? config.inputs_file);
  return { file, display: projectRelative(root, file) };
}

/** The first line of an inputs file that generation stopped short of finishing, followed by why. */
export const INCOMPLETE_MARK = '# INCOMPLETE: ';

/** The inputs file: a comment header, `inputs`, `stats` and `generation_config`. */
export function renderInputsFile(result: GenerationResult, now = new Date()): string {
  const { settings } = result.plan;
  const how = settings.mode === 'llm' ? `llm mode, model ${settings.llm.model}` : `deterministic mode, seed ${settings.seed}: the same config and seed give the same inputs`;
  const header = [
    `# Inputs for fluxloop experiments, made by \`fluxloop generate inputs\` at ${now.toISOString()}`,
    `# (${how}).`,
    '# `fluxloop run experiment` reads the inputs below. Edit them freely; to make the file again,',
    '# run `fluxloop generate inputs --overwrite`.',
  ];
  // lineWidth 0: every input on one line, so that no folding can change what reads back.
  const body = stringify({ inputs: result.inputs, stats: result.stats, generation_config: result.plan.generation_config }, { lineWidth: 0 });
  return `${header.join('\n')}\n${body}`;
}

/** Throws when the file exists: checked before generating, so that no LLM call is wasted. */
export function assertWritable(file: string, display: string): void {
  if (fs.existsSync(file)) throw new ConfigError('the file exists already; pass --overwrite to replace it', { file: display });
}
