import { isRecordingEnabled } from './project';

/** The variable that turns recording on. */
export const RECORD_KEY = 'FLUXLOOP_RECORD_ARGS';

/** Where the effective `FLUXLOOP_RECORD_ARGS` comes from: the environment wins over `.env`. */
export type RecordingModeSource = 'environment' | '.env' | 'default';

/** Whether the recorder will record, and why, as `record status` and `env` show it. */
export interface RecordingMode {
  mode: 'enabled' | 'disabled';
  source: RecordingModeSource;
  environment_value: string | null;
  env_file_value: string | null;
}

/** The recording mode as the preload will decide it, from the environment and the values of `.env`. */
export function recordingMode(envFileValues: Record<string, string>, environment: NodeJS.ProcessEnv = process.env): RecordingMode {
  const environmentValue = environment[RECORD_KEY];
  const envFileValue = envFileValues[RECORD_KEY];
  const source: RecordingModeSource = environmentValue !== undefined ? 'environment' : envFileValue !== undefined ? '.env' : 'default';
  return {
    mode: isRecordingEnabled(environmentValue ?? envFileValue) ? 'enabled' : 'disabled',
    source,
    environment_value: environmentValue ?? null,
    env_file_value: envFileValue ?? null,
  };
}

/** Where the mode comes from, in words: `FLUXLOOP_RECORD_ARGS=true in .env`. */
export function recordingModeOrigin(mode: RecordingMode): string {
  if (mode.source === 'default') return `${RECORD_KEY} is not set`;
  if (mode.source === '.env') return `${RECORD_KEY}=${mode.env_file_value} in .env`;
  const overridden = mode.env_file_value === null ? '' : `, overriding ${mode.env_file_value} in .env`;
  return `${RECORD_KEY}=${mode.environment_value} in the environment${overridden}`;
}
