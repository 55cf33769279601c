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
