import type { TracingChannel } from 'node:diagnostics_channel';
import { types } from 'node:util';
import type { Around } from '../../trace/observations';
import { currentRecordedCall, insideTool, runInRecordedCall } from '../../trace/recording';
import { warn } from '../warn';
import type { ChildStart, Children, Encoded } from './child';

/** The message of a transformed function's call on its tracing channel. */
interface CallMessage {
  arguments: unknown[];
  around?: (run: () => unknown) => unknown;
  result?: unknown;
  error?: unknown;
}

/**
 * The observer of a patched downstream target (a tool): under a recorded call, an Around that
 * makes the call and records it as a child when it ends, its promise's outcome awaited on a side
 * chain; outside one, nothing at all.
 */
export function toolObserver(children: Children, target: string): (args: unknown[]) => Around | undefined {
  return (args) => {
    const call = currentRecordedCall();
    if (call === undefined) return undefined;
    const start = children.begin(call);
    // Encoded now: the tool may change what it was given.
    const encoded = children.encoded(args);
    return (run) => {
      let result: unknown;
      try {
        result = runInRecordedCall(insideTool(call, start.seq), run);
      } catch (error) {
        children.tool(start, target, encoded, { error, async: false });
        throw error;
      }
      settled(children, start, target, encoded, result);
      return result;
    };
  };
}

/**
 * Records the calls of a transformed downstream target from its tracing channel: the start, in the
 * caller's context, says whether it runs under a recorded call, and the call then runs inside its
 * tool call; the end says what it came to.
 */
export function recordToolChannel(children: Children, target: string, channel: TracingChannel<unknown, CallMessage>): void {
  const open = new WeakMap<object, { start: ChildStart; args: Encoded }>();
  channel.start.subscribe((message) => {
    const call = currentRecordedCall();
    if (call === undefined) return;
    try {
      const start = children.begin(call);
      open.set(message as object, { start, args: children.encoded((message as CallMessage).arguments) });
      (message as CallMessage).around = (run) => runInRecordedCall(insideTool(call, start.seq), run);
    } catch (error) {
      failed(target, error);
    }
  });
  channel.end.subscribe((message) => {
    const begun = open.get(message as object);
    if (begun === undefined) return;
    open.delete(message as object);
    const m = message as CallMessage;
    if ('error' in m) children.tool(begun.start, target, begun.args, { error: m.error, async: false });
    else settled(children, begun.start, target, begun.args, m.result);
  });
}

function settled(children: Children, start: ChildStart, target: string, args: Encoded, result: unknown): void {
  if (!isThenable(result)) return children.tool(start, target, args, { output: result, async: false });
  try {
    result.then(
      (output) => children.tool(start, target, args, { output, async: true }),
      (error: unknown) => children.tool(start, target, args, { error, async: true }),
    );
  } catch (error) {
    failed(target, error);
  }
}

/**
 * A native promise alone is awaited: another thenable's `then` may do the work itself (a query
 * builder runs its query when asked), so it is recorded as the value it is.
 */
function isThenable(value: unknown): value is Promise<unknown> {
  return types.isPromise(value);
}

function failed(target: string, error: unknown): void {
  warn('downstream:tool', `could not record a call of ${target}: ${(error as Error)?.message ?? String(error)}`);
}
