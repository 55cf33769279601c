import type { MessagePort } from 'node:worker_threads';
import type { TargetSpec } from '../../config/types';
import { pathOf, transformSource } from './apply';

/** What the app's thread hands the loader: the target files by absolute path, and where to report the files left as they were. */
export interface LoaderData {
  files: Record<string, TargetSpec[]>;
  port: MessagePort;
}

let files = new Map<string, TargetSpec[]>();
let port: MessagePort | undefined;

/**
 * The ES module `load` hook for Node versions without stable in-thread hooks, run on Node's loader
 * thread. CommonJS is left to the `_compile` patch on the app's thread, which sees every `require`
 * (a hook here does not), and handing Node CommonJS source from an async hook sends it down the
 * require(esm) bridge, which fails on older Node versions.
 */
export function initialize(data: LoaderData): void {
  files = new Map(Object.entries(data.files));
  port = data.port;
}

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | ArrayBufferView | null };

export async function load(url: string, context: unknown, nextLoad: (url: string, context: unknown) => Promise<LoadResult>): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  const file = pathOf(url);
  const targets = file === undefined ? undefined : files.get(file);
  if (targets === undefined || result.format !== 'module' || result.source == null) return result;
  const code = transformSource(result.source, file!, 'esm', targets, (reports) => port?.postMessage(reports));
  return code === undefined ? result : { ...result, source: code };
}
