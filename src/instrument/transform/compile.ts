import Module from 'node:module';
import type { TargetSpec } from '../../config/types';
import { transformModule, unreadable, type TargetReport } from './transform';

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown;

/**
 * Transforms the target files that load as CommonJS, on the app's own thread, where every
 * `require` of them (and every `import` of CommonJS) passes through `Module.prototype._compile`.
 * A file that cannot be transformed loads as it is.
 */
export function patchCompile(files: ReadonlyMap<string, readonly TargetSpec[]>, onUnread: (file: string, reports: TargetReport[]) => void): void {
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  proto._compile = function (this: Module, content: string, filename: string, ...rest: unknown[]) {
    const targets = files.get(filename);
    if (targets !== undefined) {
      try {
        const { code, report } = transformModule(content, filename, 'cjs', targets);
        // A transformed module reports for itself when it runs; one left as it was cannot.
        if (code === undefined) onUnread(filename, report.targets);
        else content = code;
      } catch (error) {
        onUnread(filename, unreadable(targets, error));
      }
    }
    return original.call(this, content, filename, ...rest);
  };
}
