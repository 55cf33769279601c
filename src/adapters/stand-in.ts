/** A logger whose calls go nowhere: what a replayed handler finds at `request.log`. */
export function silentLogger(): Record<string, unknown> {
  const logger: Record<string, unknown> = {};
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) logger[level] = () => undefined;
  logger.child = () => logger;
  logger.level = 'silent';
  return logger;
}

/** Header names in lowercase, as Node and the Fetch API give them. */
export function lowercaseKeys(headers: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof headers === 'object' && headers !== null) for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
