import { fastifyAdapter } from './fastify';
import { fetchAdapter } from './fetch';
import { honoAdapter } from './hono';
import { koaAdapter } from './koa';
import type { Adapter, OutputRead } from './types';

export { NOWHERE, type Adapter, type OutputRead, type RebuildContext, type RecordContext } from './types';
export { Note, unread } from './note';

/** Every adapter, asked in this order: a framework's own objects before the Fetch API they wrap. */
export const ADAPTERS: readonly Adapter[] = [fastifyAdapter, koaAdapter, honoAdapter, fetchAdapter];

const byType = new Map(ADAPTERS.flatMap((a) => a.types.map((t) => [t, a] as const)));

interface Recognised {
  adapter: Adapter;
  type: string;
}

// Per prototype, since the instances of a class are all recognised alike: the encoder asks for
// every class instance it meets, and the answer, often "none", costs one lookup after the first.
const recognised = new WeakMap<object, Recognised | null>();

/** The adapter and `$type` for a class instance with prototype `proto`, or undefined. Never throws. */
export function adapterFor(value: object, proto: object): Recognised | undefined {
  let found = recognised.get(proto);
  if (found === undefined) {
    found = null;
    for (const adapter of ADAPTERS) {
      let type: string | undefined;
      try {
        type = adapter.recognise(value, proto);
      } catch {
        // A getter that throws on a prototype says nothing about the class.
      }
      if (type !== undefined) {
        found = { adapter, type };
        break;
      }
    }
    recognised.set(proto, found);
  }
  return found ?? undefined;
}

/** The output a framework object returned by a function stands for (a Response's status, headers and body); undefined for other values. */
export function readOutput(value: unknown): Promise<OutputRead> | undefined {
  for (const adapter of ADAPTERS) {
    const read = adapter.readOutput?.(value);
    if (read !== undefined) return read;
  }
  return undefined;
}

/** The adapter that wrote `$type`, or undefined. */
export function adapterOf(type: string): Adapter | undefined {
  return byType.get(type);
}
