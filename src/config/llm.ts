import type { Node } from 'yaml';
import type { LlmConfig } from './types.js';
import type { Validator } from './validator.js';

const PROMPT_KEYS: readonly string[] = ['system_prompt', 'user_prompt_template'];
const LLM_KEYS = ['provider', 'base_url', 'model', 'api_key_env', 'temperature', 'timeout_ms', 'max_retries', 'concurrency', 'max_time_ms', 'max_consecutive_failures', ...PROMPT_KEYS];
// Providers that speak the OpenAI chat completions API; others are reached through base_url.
const PROVIDERS = ['openai', 'openai-compatible'] as const;

/** A section's own key beside the endpoint's: true when it took the key. */
export type OtherKey = (key: string, keyNode: Node | null, value: Node | null, field: string) => boolean;

/**
 * An OpenAI-compatible endpoint's settings (`input_generation.llm`, `evaluation.llm`) over `base`.
 * The prompt keys belong to input generation; the judge's prompts are its rubrics. `other` takes
 * the keys of a section that holds more than the endpoint (`multi_turn.supervisor`), and `more`
 * names them in the message for an unknown key.
 */
export function readLlmConfig(v: Validator, node: Node | null, keyNode: Node | null, section: string, base: LlmConfig, prompts = true, other?: OtherKey, more: readonly string[] = []): LlmConfig {
  const config: LlmConfig = { ...base };
  if (v.isEmpty(node)) return config;
  const known = [...(prompts ? LLM_KEYS : LLM_KEYS.filter((key) => !PROMPT_KEYS.includes(key))), ...more];
  for (const { key, keyNode: k, value } of v.mapping(node, section, keyNode)) {
    const field = `${section}.${key}`;
    if (other?.(key, k, value, field)) continue;
    if (!prompts && PROMPT_KEYS.includes(key)) v.unknownKey(key, k, section, known);
    switch (key) {
      case 'provider':
        config.provider = v.oneOf(value, field, PROVIDERS) ?? config.provider;
        break;
      case 'base_url': {
        const url = v.nonEmpty(value, field);
        if (url === undefined) break;
        if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) v.fail(`must be an http or https URL, found ${JSON.stringify(url)}`, value, field);
        config.base_url = url;
        break;
      }
      case 'model':
        config.model = v.nonEmpty(value, field) ?? config.model;
        break;
      case 'system_prompt':
        config.system_prompt = v.nonEmpty(value, field);
        break;
      case 'user_prompt_template':
        config.user_prompt_template = v.nonEmpty(value, field);
        if (config.user_prompt_template?.includes('{input}') === false) {
          v.fail('must contain {input}, where the base input goes (also {strategy}, {persona} and {count})', value, field);
        }
        break;
      case 'api_key_env': {
        const name = v.nonEmpty(value, field);
        if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          v.fail(`must be the name of an environment variable, e.g. OPENAI_API_KEY, found ${JSON.stringify(name)}`, value, field);
        }
        config.api_key_env = name ?? config.api_key_env;
        break;
      }
      case 'api_key':
        // FluxLoop takes the key itself here; a key in a config file ends up in commits and reports.
        v.fail('an API key does not belong in the config file; put it in .env or the environment and name the variable with api_key_env', k, field);
      case 'temperature':
        config.temperature = v.number(value, field, 0, 2) ?? config.temperature;
        break;
      case 'timeout_ms':
      case 'concurrency':
        config[key] = v.positiveInteger(value, field) ?? config[key];
        break;
      case 'max_time_ms':
      case 'max_consecutive_failures':
        config[key] = v.positiveInteger(value, field) ?? config[key];
        break;
      case 'max_retries':
        config.max_retries = v.count(value, field) ?? config.max_retries;
        break;
      default:
        v.unknownKey(key, k, section, known);
    }
  }
  return config;
}
