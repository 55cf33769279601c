import fs from 'node:fs';
import { fileFinder, formatOf, transformSource, type TransformPlan } from './apply';

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | ArrayBufferView | null };
type SyncLoad = (url: string, context: unknown, nextLoad: (url: string, context?: unknown) => LoadResult) => LoadResult;
type RegisterHooks = (hooks: { load: SyncLoad }) => unknown;

// The first versions where `module.registerHooks` serves `require` and `import` alike without the
// bugs of its first releases; tsx moves onto it from the same versions, and a hook on the app's
// thread runs after (inside) those of the loader thread, so ours must be there too to see what
// tsx compiled.
const IN_THREAD_FROM = [
  [22, 22, 3],
  [24, 11, 1],
  [25, 1, 0],
];

/**
 * `module.registerHooks`, where Node has it working: one hook on the app's own thread sees ES
 * modules and CommonJS alike, with no loader thread to start.
 */
export function inThreadHooks(): RegisterHooks | undefined {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
  const from = IN_THREAD_FROM.find(([m]) => m === major) ?? (major > 25 ? [major, 0, 0] : undefined);
  const working = from !== undefined && (minor > from[1]! || (minor === from[1] && patch >= from[2]!));
  const registerHooks = (require('node:module') as { registerHooks?: RegisterHooks }).registerHooks;
  return working ? registerHooks : undefined;
}

export function hookInThread(registerHooks: RegisterHooks, plan: TransformPlan): void {
  const find = fileFinder(plan);
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      const file = find(url);
      const format = formatOf(result.format);
      if (file === undefined || format === undefined) return result;
      // CommonJS comes without its source unless a hook before this one gave it.
      const code = transformSource(plan, file, result.source ?? fs.readFileSync(file), format);
      return code === undefined ? result : { ...result, source: code };
    },
  });
}
