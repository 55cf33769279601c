// Numbers read as the CLI and the report show them: the library's one rule, compiled in.
export { formatBytes, formatPercent } from '../../src/experiment/format';

/** One line of at most `max` characters, with an ellipsis when cut. */
export function cut(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
