// After `tsc`: writes `dist/start.js` again as one file holding `src/start.ts` and the modules it
// reaches, which a process that records loads as soon as it starts. Resolving, reading and
// compiling sixty small files one by one was a fifth of that start-up; one file costs a compile.
// Kept as the files tsc wrote: installed packages; the modules that `dist/register.js` has loaded
// before it requires this one, shared so that there is one `ConfigError` class and one count of
// warnings; and what only a cold start loads (the config's checker when simulation.yaml changed,
// the transform's parser when a target file did), which every start would otherwise compile.
// Each bundled module keeps its own `__filename` and `__dirname` (the file tsc wrote it to), for
// the paths it resolves from its own place: the loader thread's module, the transform's build
// stamp, import-in-the-middle's hook.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(repo, 'src');
const dist = path.join(repo, 'dist');
const SEPARATE = ['config/errors.ts', 'config/env.ts', 'config/project.ts', 'record/warn.ts', 'config/simulation.ts', 'instrument/transform/transform.ts'].map((f) => path.join(src, f));

/** Where tsc wrote a source file, relative to `dist/` and in `/` form. */
const built = (file) => path.relative(src, file).replace(/\.ts$/, '.js').split(path.sep).join('/');

const layout = {
  name: 'dist-layout',
  setup(b) {
    b.onResolve({ filter: /^\./ }, async ({ path: request, resolveDir, kind, pluginData }) => {
      if (pluginData === 'resolving') return undefined;
      const found = await b.resolve(request, { resolveDir, kind, pluginData: 'resolving' });
      return SEPARATE.includes(found.path) ? { path: `./${built(found.path)}`, external: true } : undefined;
    });
    b.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
      const source = await fs.promises.readFile(file, 'utf8');
      if (!/\b__(?:file|dir)name\b/.test(source)) return { contents: source, loader: 'ts' };
      const own = `const __filename = require('node:path').join(__bundleDir, ${JSON.stringify(built(file))});\nconst __dirname = require('node:path').dirname(__filename);\n`;
      return { contents: own + source, loader: 'ts' };
    });
  },
};

await build({
  entryPoints: [path.join(src, 'start.ts')],
  outfile: path.join(dist, 'start.js'),
  tsconfig: path.join(repo, 'tsconfig.json'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  minifyWhitespace: true,
  banner: { js: 'const __bundleDir = __dirname;' },
  plugins: [layout],
  logLevel: 'warning',
});

// esbuild's `__toESM` copies every export of a CommonJS module onto a new object at each import
// of it: the bundle's fifteen imports of node:fs and node:path took 2 ms of every start. Each
// module's copy is made once here, and shared; its properties are getters alone, so no importer
// can change what another sees.
const bundle = path.join(dist, 'start.js');
const text = fs.readFileSync(bundle, 'utf8');
const HELPER = 'var __toESM=';
if (text.split(HELPER).length !== 2) throw new Error(`bundle-start: esbuild's ${HELPER} is not in dist/start.js once; see the note above it here`);
const once = 'var __esmOf=new WeakMap();var __toESM=(mod,isNodeMode)=>{if(isNodeMode||mod==null||typeof mod!=="object"&&typeof mod!=="function")return __toESMEach(mod,isNodeMode);let ns=__esmOf.get(mod);if(ns===undefined)__esmOf.set(mod,ns=__toESMEach(mod));return ns};';
fs.writeFileSync(bundle, text.replace(HELPER, `${once}var __toESMEach=`));
