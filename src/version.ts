import fs from 'node:fs';
import path from 'node:path';

/** The `version` of a package.json, or undefined when it cannot be read. */
export function versionOf(packageJson: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** This fluxloop's version; the same relative path works from src/ and dist/. */
export function fluxloopVersion(): string {
  return versionOf(path.join(__dirname, '..', 'package.json')) ?? 'unknown';
}
