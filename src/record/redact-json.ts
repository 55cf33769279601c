import type { SimulationConfig } from '../config/types';
import { MASK, uniqueName, type Redactor } from './redact';

/** The project's own redaction rules, on top of the built-in ones: `recording.redact_keys` and `recording.redact_patterns`. */
export interface RedactRules {
  keys: string[];
  patterns: string[];
}

export function redactRules(config: SimulationConfig): RedactRules {
  return { keys: config.recording.redact_keys, patterns: config.recording.redact_patterns };
}

/**
 * A JSON value (already encoded, or read back from a file) with the redactor's rules applied
 * again: strings and object keys rewritten, the values of secret-named keys masked. For what
 * fluxloop writes from text it did not encode itself (an experiment folder read back, evaluation
 * reasons that quote an output, a judge's reply), so that the same rules hold there too. An
 * absent value (`null`, `''`, an encoded `undefined`) stays as it is, as the encoder keeps it.
 */
export function redactJson(value: unknown, redactor: Redactor): unknown {
  if (typeof value === 'string') return redactor.redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redactor));
  const out: Record<string, unknown> = {};
  const names = new Set<string>();
  for (const [key, v] of Object.entries(value)) {
    // The encoder's tags are fluxloop's own words, never the app's.
    if (key === '$type') {
      out[key] = v;
      continue;
    }
    const masked = !isEncodedUndefined(v) && redactor.masks(key, v) ? MASK : redactJson(v, redactor);
    // Defined, not assigned: a key read from JSON may be "__proto__".
    Object.defineProperty(out, uniqueName(redactor.redactString(key), names), { value: masked, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** `undefined` as the encoder writes it: absent, as `null` and `''` are, which `masks` keeps. */
function isEncodedUndefined(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { $type?: unknown }).$type === 'undefined';
}
