import type { Param } from '../params';

// What a transformed module and the recording thread share: kept apart from the transform itself,
// so that the thread that subscribes loads no parser.

/** What the transform found for one target; the transformed module publishes these when it first runs. */
export type TargetReport =
  | {
      target: string;
      ok: true;
      name: string;
      params: Param[];
      /** The parameters of the target's other functions (a setter beside its getter), by variant 1, 2… */
      variants?: Param[][];
      line: number;
      column: number;
      source: string;
    }
  | { target: string; ok: false; reason: string };

export interface ModuleReport {
  file: string;
  targets: TargetReport[];
}

/** Where a transformed module reports what it found; subscribed to in the recording thread. */
export const REPORT_CHANNEL = 'fluxloop:transform';

/** The function a transformed module declares and its targets call; `$` keeps it apart from the module's own names. */
export const TRACE = '__fluxloop$trace';

/** What every transformed module holds: the declaration of its trace function. */
export const TRANSFORMED = `function ${TRACE}(`;

/** The tracing channel that a target's calls are published to. */
export function callChannel(target: string): string {
  return `fluxloop:call:${target}`;
}

/** Whether a function's source was rewritten by the transform: it calls the trace function. */
export function isTransformed(fn: Function): boolean {
  try {
    return Function.prototype.toString.call(fn).includes(`${TRACE}(`);
  } catch {
    return false;
  }
}
