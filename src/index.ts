/**
 * The fluxloop SDK. Recording itself needs no code: `node --import fluxloop/register app.js`.
 * These are for marking functions in code and for tools built on the recorder.
 */
export { trace, recordCallArgs, type TraceOptions, type TraceDecorator } from './manual';
export { currentReplay, runInReplay, type ReplayContext } from './trace/context';
export { decode, type DecodeOptions } from './record/decode';
export { ConfigError, type SourceLocation } from './config/errors';
export type { RecordingConfig, SimulationConfig, TargetSpec } from './config/types';
