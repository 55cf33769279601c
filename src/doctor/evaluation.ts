import { ConfigError } from '../config/errors';
import { check, messageOf, type Check } from './check';
import type { DoctorContext } from './context';

const TITLE = 'evaluation config';

/** The evaluators `fluxloop evaluate experiment` will use: `configs/evaluation.yaml` or `evaluation:` in the simulation config. */
export function checkEvaluationConfig(ctx: DoctorContext): Check {
  const loaded = ctx.evaluation;
  if (loaded === undefined) return check('evaluation-config', TITLE, 'skip', 'the simulation config, which it builds on, does not load (see above)');
  if (!loaded.ok) {
    if (!(loaded.error instanceof ConfigError)) throw loaded.error;
    const where = loaded.error.location?.file;
    return check('evaluation-config', TITLE, 'fail', messageOf(loaded.error), where ? `edit ${where}` : undefined);
  }
  const { source, evaluators } = loaded.value;
  const names = evaluators.map((e) => e.name).join(', ');
  return source === '(defaults)'
    ? check('evaluation-config', TITLE, 'ok', `none; \`fluxloop evaluate experiment\` checks ${names}`)
    : check('evaluation-config', TITLE, 'ok', `${source}: ${names}`);
}
