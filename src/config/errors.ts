/** Where in a file a problem is. Lines and columns count from 1. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** The config key, as a dotted path: `recording.targets[1]`. */
  field?: string;
}

/** A problem with the user's files or command line: reported without a stack, exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly location?: SourceLocation;

  constructor(message: string, location?: SourceLocation) {
    super(location ? `${formatLocation(location)}: ${message}` : message);
    this.location = location;
  }
}

export function formatLocation(loc: SourceLocation): string {
  let text = loc.file;
  if (loc.line !== undefined) text += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) text += `:${loc.column}`;
  if (loc.field) text += ` (${loc.field})`;
  return text;
}
