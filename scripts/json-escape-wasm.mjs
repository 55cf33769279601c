// Writes src/record/json-escape-wasm.ts: src/record/json-escape.wat compiled to WebAssembly, as
// base64, so that the recorder's bundle carries it and no process reads another file for it.
// Run it after changing the .wat (test/unit/json-escape.test.ts fails until then):
// node scripts/json-escape-wasm.mjs
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import wabt from 'wabt';

/** The module's bytes, compiled from its text. */
export async function compileJsonEscape() {
  const source = new URL('../src/record/json-escape.wat', import.meta.url);
  const text = fs.readFileSync(source, 'utf8');
  const parsed = (await wabt()).parseWat('json-escape.wat', text, { simd: true });
  try {
    parsed.validate();
    return Buffer.from(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = new URL('../src/record/json-escape-wasm.ts', import.meta.url);
  const base64 = (await compileJsonEscape()).toString('base64');
  fs.writeFileSync(
    file,
    [
      '// Written by scripts/json-escape-wasm.mjs from json-escape.wat; test/unit/json-escape.test.ts checks it.',
      '',
      '/** json-escape.wat, compiled, in base64. */',
      'export const JSON_ESCAPE_WASM =',
      ...base64.match(/.{1,96}/g).map((line, i, all) => `  '${line}'${i < all.length - 1 ? ' +' : ';'}`),
      '',
    ].join('\n'),
  );
  console.log(`wrote ${file.pathname.split('/').slice(-3).join('/')}`);
}
