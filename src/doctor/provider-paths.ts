import { formatLocation } from '../config/errors';
import { configLocation } from '../config/locations';
import type { Param } from '../instrument/params';
import type { CallArgs } from '../replay/paths';
import { ProviderPaths } from '../replay/providers';
import type { ReplayRecord } from '../replay/reader';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import type { ReplayedScan, Watcher } from './replayed';

/** Shows each recording to the run's own check of the provider paths, so that doctor and the run apply one rule. */
export class ProviderPathsWatcher implements Watcher {
  private paths: ProviderPaths | undefined;

  constructor(private readonly ctx: DoctorContext) {}

  see(record: ReplayRecord, call: CallArgs, params: readonly Param[], replayed: { display: string }): void {
    const replay = this.ctx.config.ok ? this.ctx.config.value.replay_args : undefined;
    if (replay === undefined) return;
    this.paths ??= new ProviderPaths(replay, replayed.display);
    this.paths.see(record, params, call);
  }

  unresolved(count: number): ReturnType<ProviderPaths['unresolved']> {
    return this.paths?.unresolved(count) ?? [];
  }
}

/**
 * 10. Each `replay_args.providers` and `callable_providers` path resolves in some recording, as
 * `run experiment` checks before its first run: a provider's path found nowhere stops the run
 * (a failure), a callable provider's is never used (a warning).
 */
export function checkProviderPaths(ctx: DoctorContext, scan: ReplayedScan, watcher: ProviderPathsWatcher): Check[] {
  if (!ctx.config.ok) return [];
  const replay = ctx.config.value.replay_args;
  const kinds = ['providers', 'callable_providers'] as const;
  const entries = kinds.flatMap((kind) => Object.keys(replay?.[kind] ?? {}).map((text) => ({ kind, text, id: `provider-path:${kind}.${text}`, title: `${kind}.${text}` })));
  if (entries.length === 0) return [];
  if (replay?.enabled !== true) return entries.map((e) => check(e.id, e.title, 'skip', 'replay_args.enabled is not true: providers are used only with recordings'));
  if (!scan.ok) return entries.map((e) => check(e.id, e.title, 'skip', scan.detail));
  const { count, target } = scan.replayed;
  const unresolved = watcher.unresolved(count);
  const config = configLabel(ctx);
  return entries.map((e) => {
    const miss = unresolved.find((u) => u.kind === e.kind && u.text === e.text);
    if (miss === undefined) return check(e.id, e.title, 'ok', `resolves in the recordings of ${target}`);
    const at = configLocation(replay[e.kind], e.text);
    const where = at === undefined ? `${miss.field} in ${config}` : formatLocation({ ...at, field: undefined });
    return e.kind === 'providers'
      ? check(e.id, e.title, 'fail', `\`run experiment\` stops before its first run: ${miss.message}`, `correct the path at ${where}, or remove it`)
      : check(e.id, e.title, 'warn', `${miss.message}; this callable provider is never used`, `correct the path at ${where}, or remove it`);
  });
}
