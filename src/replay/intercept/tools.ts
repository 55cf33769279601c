import { types } from 'node:util';
import { decode } from '../../record/decode';
import type { CallObserver } from '../../instrument/wrap';
import { currentScope, recordedError } from './requests';

/**
 * The observer of a tool function (`recording.downstream.targets`) in a replay run: its calls go
 * through the run's stubs. Stubbed, the function is not called: the recorded output comes back
 * (a resolved promise when the recorded call returned one), or the recorded error is thrown (or
 * rejected). Outside a run, or live, the function is called as it is. A call that cannot be
 * answered is thrown, or rejected when the function is `async` (`isAsync`, known of a wrapped one).
 */
export function toolObserver(target: string, isAsync = false): CallObserver {
  return (args) => {
    const scope = currentScope();
    if (scope === undefined) return undefined;
    const decision = scope.run.begin({ kind: 'tool', name: target, args: scope.encoding.value(args) as unknown[] });
    return (call) => {
      switch (decision.answer) {
        case 'stub': {
          const recorded = decision.recorded;
          scope.run.end(decision.seq);
          const async = recorded.async ?? isAsync;
          if (recorded.error != null) {
            const error = recordedError(recorded.error);
            if (async) return Promise.reject(error);
            throw error;
          }
          const value = recorded.output === undefined ? undefined : decode(recorded.output);
          return async ? Promise.resolve(value) : value;
        }
        case 'denied':
        case 'unmatched':
          scope.run.end(decision.seq);
          if (isAsync) return Promise.reject(decision.error);
          throw decision.error;
        case 'live': {
          let result: unknown;
          try {
            result = call();
          } catch (error) {
            scope.run.end(decision.seq, { error });
            throw error;
          }
          if (types.isPromise(result)) {
            result.then(
              () => scope.run.end(decision.seq),
              (error: unknown) => scope.run.end(decision.seq, { error }),
            );
          } else scope.run.end(decision.seq);
          return result;
        }
      }
    };
  };
}
