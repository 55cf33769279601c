import { ConfigError } from './config/errors';
import { applyEnv, readEnvFile } from './config/env';
import { envPath, isRecordingEnabled, resolveProjectRoot } from './config/project';
import type { Session } from './instrument/session';
import { warn } from './record/warn';

/** `null` once it is known that this process does not record. */
type State = Session | null | undefined;
const slot = Symbol.for('fluxloop.session');
const holder = globalThis as unknown as Record<symbol, State>;

/**
 * The preload's work, run by `node --import fluxloop/register`. Unless recording is on, it does
 * nothing at all: it reads `.env` without applying it, registers no loader and hooks nothing.
 * It never throws into the app: a broken config is reported and the app runs unrecorded.
 */
export function startRecording(options: { hooks: boolean }): Session | undefined {
  if (holder[slot] !== undefined) return holder[slot] ?? undefined;
  holder[slot] = null;
  try {
    const root = resolveProjectRoot();
    const env = readEnvFile(envPath(root));
    if (!isRecordingEnabled(process.env.FLUXLOOP_RECORD_ARGS ?? env.values.FLUXLOOP_RECORD_ARGS)) return undefined;
    applyEnv(env.values);
    // Loaded only now: YAML, the encoder and the hook libraries cost start-up time that a
    // process which does not record must not pay.
    const { startSession } = require('./start') as typeof import('./start');
    const started = startSession(root, options.hooks);
    if (typeof started !== 'function') return (holder[slot] = started);
    // The session is made while the app's thread first waits (see startSession): whoever reads the
    // slot sooner, here or in another copy of fluxloop, has it made then.
    Object.defineProperty(holder, slot, { configurable: true, enumerable: true, get: () => settle(started() ?? null), set: settle });
    return undefined;
  } catch (error) {
    const message = error instanceof ConfigError || !process.env.FLUXLOOP_DEBUG ? (error as Error).message : (error as Error).stack;
    warn('start', `recording is off: ${message}`);
    return undefined;
  }
}

/** Makes the slot a plain value again. */
function settle(state: State): State {
  Object.defineProperty(holder, slot, { value: state, writable: true, configurable: true, enumerable: true });
  return state;
}

/** The recording session of this process, started on first use when no preload started it. */
export function activeSession(): Session | undefined {
  const state = holder[slot];
  if (state !== undefined) return state ?? undefined;
  return startRecording({ hooks: false });
}
