// The ESM face of the SDK: the same single CommonJS build, so ESM and CommonJS callers share
// one recorder and one replay context.
export { trace, recordCallArgs, currentReplay, runInReplay, decode, ConfigError, replay, runExperiment, generateInputs, evaluateExperiment, mergeExperiments } from './dist/index.js';
