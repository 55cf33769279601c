/**
 * What a fluxloop project keeps out of version control: `.env` may hold API keys, recordings hold
 * what real users sent, `.fluxloop/` is fluxloop's own state, and experiments are made again.
 */
export const IGNORED = ['.env', 'recordings/', '.fluxloop/', 'experiments/'] as const;

/** The comment the lines fluxloop adds go under. */
export const GITIGNORE_MARK = '# fluxloop';

/** A glob of .gitignore as a regular expression over one path: `*` and `?` stay within a folder. */
function globRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*?/g, (stars) => (stars === '**' ? '.*' : '[^/]*')).replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`);
}

/**
 * Whether a line of a .gitignore already decides about `entry`, a name at the project root
 * (a folder when it ends with `/`): `.env`, `/.env`, `.env*`, `recordings`, `/recordings/` do, and
 * so does such a pattern after two stars and a slash. A negation (`!.env`) is the user's
 * decision too, and is kept as it is.
 */
function decides(line: string, entry: string): boolean {
  let text = line.trim();
  if (text === '' || text.startsWith('#')) return false;
  if (text.startsWith('!')) text = text.slice(1);
  // `name/` matches folders only.
  if (text.endsWith('/') && !entry.endsWith('/')) return false;
  const pattern = text.replace(/^(?:\*\*\/|\/)/, '').replace(/\/$/, '');
  return pattern !== '' && globRegExp(pattern).test(entry.replace(/\/$/, ''));
}

/**
 * `existing` (undefined when there is no .gitignore) with the lines of IGNORED it lacks, and which
 * those are. The user's lines stay as they are and in their order: the missing lines go at the
 * end under GITIGNORE_MARK, or, when that comment is there from an earlier run, at the end of its
 * block. Line endings follow the file's.
 */
export function mergeGitignore(existing: string | undefined): { text: string; added: string[] } {
  if (existing === undefined) return { text: `${GITIGNORE_MARK}\n${IGNORED.join('\n')}\n`, added: [...IGNORED] };
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  const lines = existing.split(/\r?\n/);
  const added = IGNORED.filter((entry) => !lines.some((line) => decides(line, entry)));
  if (added.length === 0) return { text: existing, added };
  const mark = lines.findIndex((line) => line.trim() === GITIGNORE_MARK);
  if (mark !== -1) {
    let end = mark + 1;
    while (end < lines.length && lines[end]!.trim() !== '') end++;
    lines.splice(end, 0, ...added);
    return { text: lines.join(eol), added };
  }
  const body = existing === '' || existing.endsWith('\n') ? existing : existing + eol;
  const gap = body === '' || body.endsWith(`${eol}${eol}`) ? '' : eol;
  return { text: `${body}${gap}${GITIGNORE_MARK}${eol}${added.join(eol)}${eol}`, added };
}
