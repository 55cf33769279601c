// `--import` this to run the app under a no-op loader: on Node 20 the hooks run on a loader
// thread, and every module's resolve and load makes a round trip to it.
import { register } from 'node:module';

register('./noop-hooks.mjs', import.meta.url);
