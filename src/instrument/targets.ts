import type { TargetSpec } from '../config/types';
import { hookFiles, type OnLoad } from './hooks';
import { patchExports } from './patch';
import type { CallObserver } from './wrap';

/** A target whose module file has been found. */
export interface LocatedTarget {
  spec: TargetSpec;
  /** The module's absolute real path. */
  file: string;
}

export interface HookTargetsOptions {
  /** The observer for a target's function, once its name and source are known. */
  observerFor: (target: TargetSpec, fn: Function) => CallObserver;
  /** Called each time a target's module loads: hooked, or why not. */
  onOutcome: (target: TargetSpec, reason?: string) => void;
}

/** Hooks the targets' files, one hook per file, and wraps each target's function whenever its file loads. */
export function hookTargets(targets: readonly LocatedTarget[], options: HookTargetsOptions): void {
  const byFile = new Map<string, TargetSpec[]>();
  for (const { spec, file } of targets) byFile.set(file, [...(byFile.get(file) ?? []), spec]);
  const onLoads = new Map<string, OnLoad>();
  // A file reached through both `require` and `import` is patched twice: one warning per target, not two.
  const reported = new Map<TargetSpec, string | undefined>();
  const report = (target: TargetSpec, reason?: string) => {
    if (reported.has(target) && reported.get(target) === reason) return;
    reported.set(target, reason);
    options.onOutcome(target, reason);
  };
  for (const [file, specs] of byFile) {
    onLoads.set(file, (exports, format) => {
      let current = exports;
      for (const target of specs) {
        const outcome = patchExports(current, format, target, (fn) => options.observerFor(target, fn));
        if (!outcome.ok) {
          report(target, `${outcome.reason} in ${target.file}`);
          continue;
        }
        report(target);
        if (outcome.exports !== undefined) current = outcome.exports;
      }
      return current === exports ? undefined : current;
    });
  }
  hookFiles(onLoads);
}
