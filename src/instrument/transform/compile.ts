import Module from 'node:module';
import type { TargetSpec } from '../../config/types';
import { transformSource } from './apply';
import type { TargetReport } from './channels';

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown;

/**
 * Transforms the target files that load as CommonJS, for Node versions without stable in-thread
 * hooks: on the app's own thread, where every `require` of them (and every `import` of
 * CommonJS) passes through `Module.prototype._compile`.
 */
export function patchCompile(files: ReadonlyMap<string, readonly TargetSpec[]>, onUnread: (reports: TargetReport[]) => void): void {
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  proto._compile = function (this: Module, content: string, filename: string, ...rest: unknown[]) {
    const targets = files.get(filename);
    if (targets !== undefined) content = transformSource(content, filename, 'cjs', targets, onUnread) ?? content;
    return original.call(this, content, filename, ...rest);
  };
}
