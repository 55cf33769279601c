import { ConfigError, type SourceLocation } from './errors.js';
import type { TargetSpec } from './types.js';

// Unicode-aware, as JavaScript identifiers are; reserved words pass, since they are valid property names.
const IDENTIFIER_RE = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;

const EXPECTED_FORMS = [
  'path/to/module.js:exportName',
  'path/to/module.js:exportName.method',
  'path/to/module.js:ClassName.method',
  'path/to/module.js:default',
  'path/to/module.js:default.method',
  'path/to/module.js:ClassName.#privateMethod',
  'path/to/module.js:LINE',
];

function fail(spec: string, why: string, location?: SourceLocation): never {
  throw new ConfigError(
    `invalid target ${JSON.stringify(spec)}: ${why}; expected one of ${EXPECTED_FORMS.join(', ')}`,
    location,
  );
}

// `path:LINE` or `path:LINE:COLUMN`; a name after ":" never starts with a digit.
const LINE_TARGET_RE = /^(.+?):([1-9]\d*)(?::([1-9]\d*))?$/;

/** Whether a target names a function by the line it begins on. */
export function isLineTarget(spec: string): boolean {
  return LINE_TARGET_RE.test(spec);
}

/**
 * Splits a target spec such as `app/agent.js:Agent.reply` into module path, export and member.
 * The path ends at the last `:`, so that Windows drive letters keep working.
 * Throws a ConfigError (at `location`, when given) that shows the accepted forms.
 */
export function parseTarget(spec: string, location?: SourceLocation): TargetSpec {
  if (spec.trim() !== spec) fail(spec, 'it starts or ends with blanks', location);
  const colon = spec.lastIndexOf(':');
  if (colon === -1) fail(spec, 'no ":" between the module path and the export name', location);
  const lineTarget = LINE_TARGET_RE.exec(spec);
  if (lineTarget && lineTarget[1]!.trim() === lineTarget[1]) {
    const [, file, line, column] = lineTarget as unknown as [string, string, string, string | undefined];
    const parsed: TargetSpec = { spec, file, exportName: line, line: Number(line) };
    if (column !== undefined) parsed.column = Number(column);
    return parsed;
  }
  const file = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (file === '') fail(spec, 'the module path before ":" is empty', location);
  if (file.trim() !== file) fail(spec, 'the module path starts or ends with blanks', location);
  if (name === '') fail(spec, 'the export name after ":" is empty', location);
  if (/\s/.test(name)) fail(spec, `the export name ${JSON.stringify(name)} contains blanks`, location);
  const parts = name.split('.');
  if (parts.length > 2) fail(spec, `only one "." is allowed after ":" (export.method), got ${JSON.stringify(name)}`, location);
  const [exportName, member] = parts as [string, string | undefined];
  if (exportName === '') fail(spec, 'the export name before "." is empty', location);
  if (!IDENTIFIER_RE.test(exportName)) fail(spec, `${JSON.stringify(exportName)} is not a JavaScript identifier`, location);
  if (member !== undefined) {
    if (member === '') fail(spec, 'the method name after "." is empty', location);
    if (!IDENTIFIER_RE.test(member.startsWith('#') ? member.slice(1) : member)) fail(spec, `${JSON.stringify(member)} is not a JavaScript identifier`, location);
  }
  return member === undefined ? { spec, file, exportName } : { spec, file, exportName, member };
}

/** What a value is, for messages: `a string`, `an array`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : type === 'undefined' ? 'undefined' : `a ${type}`;
}

/** A module's export names, for messages: at most 20, `none` for none. */
export function listExports(exports: unknown): string {
  const names = Object.keys(exports ?? {}).filter((k) => k !== '__esModule');
  return names.length === 0 ? 'none' : names.slice(0, 20).join(', ') + (names.length > 20 ? ', …' : '');
}
