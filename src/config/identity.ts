import path from 'node:path';
import { moduleFile } from './project';

/**
 * What a record's `target` is, exactly: the module's path relative to the project (with `/`, and the
 * extension the file has on disk), then what it names there (`app/routes/chat.js:POST`,
 * `app/bot.ts:Bot.reply`, `app/server.js:42`). The recorder writes it and the reader selects by
 * it, through this one function, so that `./app/agent`, `app/agent.js` and an absolute path name
 * one target. A spec that names no module of this project (a bare name, a package) is kept as it is.
 */
export function targetIdentity(root: string, spec: string): string {
  const colon = moduleColon(spec);
  if (colon <= 0) return spec;
  const given = spec.slice(0, colon);
  const absolute = path.resolve(root, given);
  // Through links as written: a package installed by pnpm is `node_modules/express/…`, not its store path.
  const file = moduleFile(absolute) ?? absolute;
  const relative = path.relative(root, file).split(path.sep).join('/');
  return `${relative}${spec.slice(colon)}`;
}

/**
 * Whether a recorded target names a module file (`app/agent.js:reply`) rather than only a name: a
 * bare `reply` (written by `trace()` before targets had identities) or a Python module path
 * (`pkg.agent:Agent.run`, from FluxLoop's Python SDK). Those are matched by name.
 */
export function namesModule(target: string): boolean {
  const colon = moduleColon(target);
  if (colon <= 0) return false;
  const file = target.slice(0, colon);
  return file.includes('/') || file.includes('\\') || /\.[cm]?[jt]sx?$/.test(file);
}

/** The function's own name in a target: `app/bot.js:Bot.reply` → `reply`. */
export function functionName(target: string): string {
  const name = target.slice(moduleColon(target) + 1);
  return name.slice(name.lastIndexOf('.') + 1) || 'anonymous';
}

// `path:NAME`, `path:LINE` or `path:LINE:COLUMN`: the module path ends before the name or the line.
const LINE_RE = /:[1-9]\d*(?::[1-9]\d*)?$/;

function moduleColon(spec: string): number {
  const line = LINE_RE.exec(spec);
  return line !== null ? line.index : spec.lastIndexOf(':');
}
