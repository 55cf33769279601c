import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import type { TargetSpec } from '../../config/types.js';
import type { TransformPlan } from './apply.js';

// An ES module that requires the rest: importing CommonJS has Node scan its source for the names
// it exports, on the loader thread, which every module of the app then waits behind.
const { fileFinder, transformSource } = createRequire(import.meta.url)('./apply.js') as typeof import('./apply.js');

/** What the app's thread hands the loader: the target files by absolute path, the cache, and where to report the files left as they were. */
export interface LoaderData {
  files: Record<string, TargetSpec[]>;
  cacheDir?: string;
  port: MessagePort;
}

let plan: TransformPlan | undefined;
let find: (url: string) => string | undefined = () => undefined;

/**
 * The ES module `load` hook for Node versions without working in-thread hooks, run on Node's
 * loader thread. CommonJS is left to the `_compile` patch on the app's thread, which sees every
 * `require` (a hook here does not), and handing Node CommonJS source from an async hook sends it
 * down the require(esm) bridge, which fails on older Node versions.
 */
export function initialize(data: LoaderData): void {
  plan = { files: new Map(Object.entries(data.files)), cacheDir: data.cacheDir, onUnread: (reports) => data.port.postMessage(reports) };
  find = fileFinder(plan);
}

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | ArrayBufferView | null };

export async function load(url: string, context: unknown, nextLoad: (url: string, context: unknown) => Promise<LoadResult>): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  const file = find(url);
  if (file === undefined || result.format !== 'module' || result.source == null) return result;
  const code = transformSource(plan!, file, result.source, 'esm');
  return code === undefined ? result : { ...result, source: code };
}
