/**
 * Shape tests on prototypes, by property descriptors only: reading a getter on a prototype would
 * run it on no instance (and throw, or worse).
 */

const OBJECT_PROTO = Object.prototype;

/** True when some prototype from `proto` up, short of Object.prototype, has each of `methods` and `getters` as its own. */
export function someProtoHas(proto: object | null, methods: readonly string[], getters: readonly string[] = []): boolean {
  for (let p = proto; p !== null && p !== OBJECT_PROTO; p = Object.getPrototypeOf(p) as object | null) {
    if (methods.every((m) => typeof Object.getOwnPropertyDescriptor(p!, m)?.value === 'function') && getters.every((g) => typeof Object.getOwnPropertyDescriptor(p!, g)?.get === 'function')) {
      return true;
    }
  }
  return false;
}

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
