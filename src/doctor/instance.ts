import { projectRelative, replayRecordingFile } from '../config/project';
import type { TargetSpec } from '../config/types';
import { recordingMatch } from '../replay/match';
import { selectRecordings } from '../replay/reader';
import { check, messageOf, type Check } from './check';
import { configLabel, type DoctorContext } from './context';

/**
 * For a `Class.method` runner.target without runner.factory: whether its recordings keep the
 * instance each run is called on, or leave runs to call it on `new Class()`, which is not the app's.
 */
export async function checkInstance(ctx: DoctorContext, spec: TargetSpec): Promise<Check> {
  const id = `runner-instance:${spec.spec}`;
  const title = `runner.target instance ${spec.spec}`;
  if (!ctx.config.ok) return check(id, title, 'skip', `${configLabel(ctx)} does not load`);
  const config = ctx.config.value;
  const file = replayRecordingFile(ctx.root, config);
  const label = projectRelative(ctx.root, file);
  const match = recordingMatch(ctx.root, config.replay_args?.function, spec.spec)!;
  let count = 0;
  let without = 0;
  try {
    for await (const record of selectRecordings(file, { displayPath: label, match: match.test, onSkip: () => undefined })) {
      count++;
      if (record.this === undefined) without++;
    }
  } catch (error) {
    return check(id, title, 'skip', messageOf(error));
  }
  if (count === 0) return check(id, title, 'skip', `${label} has no recordings of ${spec.spec} yet`);
  const cls = spec.exportName;
  if (without === 0) return check(id, title, 'ok', `${count} recording${count === 1 ? '' : 's'} of ${spec.spec} keep the ${cls} each run is called on`);
  return check(
    id,
    title,
    'warn',
    `${without} of ${count} recordings of ${spec.spec} keep no instance: their runs call ${spec.member} on new ${cls}() with no arguments, not the app's instance`,
    `record them again (fluxloop now keeps the instance), or set runner.factory in ${configLabel(ctx)} to make one as the app does`,
  );
}
