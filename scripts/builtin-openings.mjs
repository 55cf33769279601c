// Writes src/record/builtin-openings.ts: the table of openings of the built-in redaction rules'
// pretests, worked out from their patterns here, once, rather than in every recording process.
// Run it after changing a rule's pretest or the name stems (test/unit/openings.test.ts fails
// until then): npm run build:dev && node scripts/builtin-openings.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { builtinOpeningTable } = require('../dist/record/redact.js');
const { packTable } = require('../dist/record/openings.js');

const table = builtinOpeningTable();
if (table === undefined) throw new Error('a built-in pretest can match the empty string, so no table can be made of them');
const file = new URL('../src/record/builtin-openings.ts', import.meta.url);
fs.writeFileSync(
  file,
  [
    '// Written by scripts/builtin-openings.mjs; test/unit/openings.test.ts checks it against the rules.',
    '',
    '/** The built-in pretests\' table of openings (see `Pretests.openings`), as `packTable` gives it. */',
    'export const BUILTIN_OPENINGS: readonly number[] = [',
    ...lines(packTable(table), 16),
    '];',
    '',
  ].join('\n'),
);

/** `numbers`, `perLine` a line, indented, each line ending with a comma. */
function lines(numbers, perLine) {
  const out = [];
  for (let i = 0; i < numbers.length; i += perLine) out.push(`  ${numbers.slice(i, i + perLine).join(', ')},`);
  return out;
}

console.log(`wrote ${file.pathname.split('/').slice(-3).join('/')}`);
