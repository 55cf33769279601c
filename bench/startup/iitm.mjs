// `--import` this to run the app the way OpenTelemetry's default ESM setup does: the
// import-in-the-middle loader with no include list, so that every module is wrapped, and a Hook
// that sees them all. import-in-the-middle resolves from this repository's node_modules. At exit
// it says how many modules it saw, so that the benchmark knows they really were intercepted.
import { register } from 'node:module';
import { Hook } from 'import-in-the-middle';

register('import-in-the-middle/hook.mjs', import.meta.url);
let hooked = 0;
new Hook(() => {
  hooked++;
});
process.on('exit', () => process.stderr.write(`iitm hooked ${hooked} modules\n`));
