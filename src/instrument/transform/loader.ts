import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import type { TargetSpec } from '../../config/types';
import type { TargetReport } from './transform';

/** What the recording thread hands the loader: the target files by absolute path, and where to report the files left as they were. */
export interface LoaderData {
  files: Record<string, TargetSpec[]>;
  port: MessagePort;
}


let files = new Map<string, TargetSpec[]>();
let port: MessagePort | undefined;

/**
 * The ES module `load` hook, run on Node's loader thread: transforms the target files that load as
 * ES modules. CommonJS is left to the `_compile` patch on the app's thread, which sees every
 * `require` (a hook here does not), and handing Node CommonJS source from an async hook sends it
 * down the require(esm) bridge, which fails on older Node versions.
 */
export function initialize(data: LoaderData): void {
  files = new Map(Object.entries(data.files));
  port = data.port;
}

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | ArrayBufferView | null; shortCircuit?: boolean };

export async function load(url: string, context: unknown, nextLoad: (url: string, context: unknown) => Promise<LoadResult>): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (!url.startsWith('file:') || result.format !== 'module' || result.source == null) return result;
  const file = pathOf(url);
  const targets = files.get(file);
  if (targets === undefined) return result;
  try {
    const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as ArrayBuffer).toString('utf8');
    // Loaded only now: the parser and code generator are for the loader thread of an app with targets.
    const { transformModule } = require('./transform') as typeof import('./transform');
    const { code, report } = transformModule(source, file, 'esm', targets);
    if (code !== undefined) return { ...result, source: code };
    port?.postMessage(report.targets);
  } catch (error) {
    const { unreadable } = require('./transform') as typeof import('./transform');
    port?.postMessage(unreadable(targets, error));
  }
  return result;
}

/** The path of a file URL, without the query a fresh import adds. */
function pathOf(url: string): string {
  const bare = new URL(url);
  bare.search = '';
  bare.hash = '';
  return fileURLToPath(bare);
}
