import Module from 'node:module';
import { transformSource, type TransformPlan } from './apply';

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown;

/**
 * Transforms the target files that load as CommonJS, on the app's own thread, where every
 * `require` of them (and every `import` of CommonJS without a hook's source) passes through
 * `Module.prototype._compile`.
 */
export function patchCompile(plan: TransformPlan): void {
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  proto._compile = function (this: Module, content: string, filename: string, ...rest: unknown[]) {
    if (plan.files.has(filename)) content = transformSource(plan, filename, content, 'cjs') ?? content;
    return original.call(this, content, filename, ...rest);
  };
}
