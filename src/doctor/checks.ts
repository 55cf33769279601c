import type { Check, DoctorReport } from './check';
import { check, messageOf } from './check';
import { loadContext } from './context';
import { checkEnv, checkConfig, checkRecordingFile, checkRecordingFolder } from './files';
import { checkEvaluationConfig } from './evaluation';
import { checkInstall, checkLlmKey, checkNode } from './environment';
import { checkTargets } from './targets';

export type { Check, CheckStatus, DoctorReport } from './check';

export interface DoctorOptions {
  root: string;
  /** How long each target module may take to load in its child process. */
  timeoutMs?: number;
  /** Called with an error no check expected; the check that hit it fails with its message. */
  onUnexpected?: (error: unknown) => void;
}

const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/**
 * Runs every check, in order. A check never stops the ones after it: what needs a file that does
 * not load is marked `skip` with the reason, and an unexpected error fails only its own check.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { root, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS } = options;
  const guard = async (id: string, title: string, run: () => Check | Check[] | Promise<Check | Check[]>): Promise<Check[]> => {
    try {
      return [await run()].flat();
    } catch (error) {
      options.onUnexpected?.(error);
      return [check(id, title, 'fail', `unexpected error: ${messageOf(error)}`, 'run `fluxloop doctor --debug` and report the stack trace')];
    }
  };
  const ctx = loadContext(root);
  const checks = [
    ...(await guard('node', 'Node.js', () => checkNode())),
    ...(await guard('fluxloop', 'fluxloop package', () => checkInstall(root))),
    ...(await guard('env', '.env', () => checkEnv(ctx))),
    ...(await guard('config', 'configs/simulation.yaml', () => checkConfig(ctx))),
    ...(await guard('evaluation-config', 'evaluation config', () => checkEvaluationConfig(ctx))),
    ...(await guard('recording-folder', 'recording folder', () => checkRecordingFolder(ctx))),
    ...(await guard('targets', 'recording targets', () => checkTargets(ctx, timeoutMs))),
    ...(await guard('recording-file', 'recording file', () => checkRecordingFile(ctx))),
    ...(await guard('llm-key', 'LLM API key', () => checkLlmKey(ctx))),
  ];
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
