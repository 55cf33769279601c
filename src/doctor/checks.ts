import type { Check, DoctorReport } from './check';
import { check, messageOf } from './check';
import { loadContext } from './context';
import { checkEnv, checkConfig, checkRecordingFile, checkRecordingFolder } from './files';
import { checkEvaluationConfig } from './evaluation';
import { checkInstall, checkLlmKey, checkNode } from './environment';
import { checkConversations, ConversationWatcher } from './conversation';
import { checkOverridePath, OverridePathWatcher } from './override-path';
import { checkProviderPaths, ProviderPathsWatcher } from './provider-paths';
import { checkQueue } from './queue';
import { checkRecordable } from './recordable';
import { scanReplayed } from './replayed';
import { checkSignature, SignatureWatcher } from './signature';
import { checkTargets, inspectTargets } from './targets';

export type { Check, CheckStatus, DoctorReport } from './check';

export interface DoctorOptions {
  root: string;
  /** How long each target module may take to load in its child process. */
  timeoutMs?: number;
  /** Called with an error no check expected; the check that hit it fails with its message. */
  onUnexpected?: (error: unknown) => void;
}

const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** `make()` run at the first call only; every call gets its promise. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

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
      return [check(id, title, 'fail', `unexpected error: ${messageOf(error)}`, 'run `npx fluxloop doctor --debug` and report the stack trace')];
    }
  };
  const ctx = loadContext(root);
  // Each target looked up once, for its own check and the checks that need its state.
  const targets = once(() => inspectTargets(ctx, timeoutMs));
  // The replayed recordings read once, each shown to the three checks that look at them.
  const watchers = { override: new OverridePathWatcher(ctx), providers: new ProviderPathsWatcher(ctx), signature: new SignatureWatcher(), conversations: new ConversationWatcher(ctx) };
  const replayed = once(async () => scanReplayed(ctx, await targets(), Object.values(watchers)));
  const checks = [
    ...(await guard('node', 'Node.js', () => checkNode())),
    ...(await guard('fluxloop', 'fluxloop package', () => checkInstall(root))),
    ...(await guard('env', '.env', () => checkEnv(ctx))),
    ...(await guard('config', 'configs/simulation.yaml', () => checkConfig(ctx))),
    ...(await guard('evaluation-config', 'evaluation config', () => checkEvaluationConfig(ctx))),
    ...(await guard('recording-folder', 'recording folder', () => checkRecordingFolder(ctx))),
    ...(await guard('targets', 'recording targets', async () => checkTargets(ctx, await targets()))),
    ...(await guard('recordable', 'recordable targets', async () => checkRecordable(ctx, await targets()))),
    ...(await guard('recording-file', 'recording file', () => checkRecordingFile(ctx))),
    ...(await guard('override-path', 'override_param_path', async () => checkOverridePath(ctx, await replayed(), watchers.override))),
    ...(await guard('provider-paths', 'provider paths', async () => checkProviderPaths(ctx, await replayed(), watchers.providers))),
    ...(await guard('recorded-arguments', 'recorded arguments', async () => checkSignature(ctx, await replayed(), watchers.signature))),
    ...(await guard('conversations', 'conversations', async () => checkConversations(ctx, await replayed(), watchers.conversations))),
    ...(await guard('llm-key', 'LLM API key', () => checkLlmKey(ctx))),
    ...(await guard('queue', 'queue', () => checkQueue(ctx))),
  ];
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
