import { interceptFetch } from './fetch';
import { interceptHttp } from './http';

export { currentScope, type CallEncoding, type DownstreamScope } from './requests';

let installed = false;

/**
 * Puts the run's stubs between the app and what it calls over the network: `fetch` and
 * `http`/`https` requests. Done once per thread, before the app loads; outside a run with
 * downstream state, every call goes straight through. The tool functions are hooked with the
 * recording targets (./tracing).
 */
export function installIntercepts(): void {
  if (installed) return;
  installed = true;
  interceptFetch();
  interceptHttp();
}
