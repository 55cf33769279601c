import fs from 'node:fs';
import path from 'node:path';

/**
 * The argv that runs the CLI for a project: the `fluxloop.cliCommand` setting when it is set,
 * else the project's own `node_modules/.bin/fluxloop` (in the project root or a folder above it,
 * where a monorepo hoists it), else npx.
 */
export function cliArgv(
  setting: unknown,
  where: { root: string; folder: string },
  exists: (file: string) => boolean = fs.existsSync,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const configured = settingArgv(setting);
  if (configured.length > 0) {
    return configured.map((arg) => arg.replaceAll('${projectRoot}', where.root).replaceAll('${workspaceFolder}', where.folder));
  }
  const bin = platform === 'win32' ? 'fluxloop.cmd' : 'fluxloop';
  for (let dir = where.root; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', '.bin', bin);
    if (exists(candidate)) return [candidate];
    if (path.dirname(dir) === dir) break;
  }
  // `--no`: never install; without a TTY npx would fetch the registry's `fluxloop` unasked, which
  // is not this package (fluxloop installs from its tarball). `--`: else npx takes the options
  // after the name (--project-dir, --json, --version) as its own.
  return [platform === 'win32' ? 'npx.cmd' : 'npx', '--no', '--', 'fluxloop'];
}

/** The setting as an argv: an array of strings, or one string split at spaces. */
function settingArgv(setting: unknown): string[] {
  if (typeof setting === 'string') return setting.trim().split(/\s+/).filter(Boolean);
  if (Array.isArray(setting)) return setting.filter((arg): arg is string => typeof arg === 'string' && arg !== '');
  return [];
}
