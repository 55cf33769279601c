import { decode, type DecodeOptions } from '../record/decode';

/** The instance a run calls a `Class.method` target on. */
export interface Instance {
  self: object;
  /** Set when it is not the app's instance. */
  warning?: string;
}

/**
 * The instance for one run: made from the recording's `this`, the class's prototype with the fields
 * the app's instance had when it was called, the constructor not run (it would start over, and may
 * need what only the app had). Without a recorded `this` (for `why`), `new Class()` with no arguments
 * stands in, with a warning: it is not the app's instance.
 */
export function instanceFor(cls: Function, recorded: unknown, options: DecodeOptions, why = 'its recording keeps no instance (made before fluxloop kept one)'): Instance {
  const proto = cls.prototype as object;
  if (isInstanceNode(recorded)) {
    // An emitter's fields are its data; the stand-in its marker would become is for arguments.
    const node = recorded.$type === 'Emitter' ? { ...recorded, $type: 'Object' } : recorded;
    const own = decode(node, { ...options, revive: (name) => (name === cls.name ? proto : options.revive?.(name)) }) as object;
    // Recorded as a subclass this run cannot find: its fields, on the target's class.
    return { self: Object.prototype.isPrototypeOf.call(proto, own) ? own : Object.defineProperties(Object.create(proto), Object.getOwnPropertyDescriptors(own)) };
  }
  if (recorded !== undefined) why = 'the recorded instance was too large to keep';
  try {
    return { self: Reflect.construct(cls, []) as object, warning: `called on new ${cls.name}() made with no arguments, not the app's instance: ${why}; set runner.factory to make one as the app does` };
  } catch (error) {
    throw new Error(`cannot make an instance of ${cls.name}: ${why}, and new ${cls.name}() threw: ${(error as Error).message}; set runner.factory to make one as the app does`);
  }
}

function isInstanceNode(value: unknown): value is { $type: string; value: unknown } {
  if (typeof value !== 'object' || value === null) return false;
  const { $type, value: fields } = value as { $type?: unknown; value?: unknown };
  return ($type === 'Object' || $type === 'Emitter') && typeof fields === 'object' && fields !== null;
}
