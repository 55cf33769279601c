import type { Persona, Strategy } from '../../config/types';
import { adversarial } from './adversarial';
import { concise } from './concise';
import { noise } from './noise';
import { personaBased } from './persona';
import type { Random } from './random';
import { rephrase } from './rephrase';
import { typo } from './typo';
import { verbose } from './verbose';

export interface VariationContext {
  /** Seeded for this one attempt of this base input, strategy and persona. */
  rng: Random;
  /** 0, 1, 2… : the orchestrator calls the transform with attempt 0, 1, 2, … until it has `variation_count` distinct results (or gives up after about count*10+10 attempts). */
  attempt: number;
  persona?: Persona;
  /** Share of letters `typo` changes, 0 < rate <= 1, default 0.05. */
  typoRate: number;
}

export interface Variation {
  input: string;
  /** Extra metadata, e.g. { probe: 'prompt_injection' } for adversarial. */
  metadata?: Record<string, unknown>;
}

/** Returns undefined when the strategy has nothing (more) to offer for this input, e.g. concise on a two-word input, or adversarial after its catalogue is used up. */
export type Transform = (base: string, ctx: VariationContext) => Variation | undefined;

/** The deterministic strategies: the same base, context and rng state give the same variation. */
export const TRANSFORMS: Record<Strategy, Transform> = {
  rephrase,
  typo,
  verbose,
  concise,
  noise,
  persona_based: personaBased,
  adversarial,
};
