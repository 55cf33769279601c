// `node --import fluxloop/register app.js`: records the configured targets when FLUXLOOP_RECORD_ARGS=true.
import { createRequire } from 'node:module';

// Required, not imported: importing CommonJS has Node scan its source for the names it exports,
// start-up time that a preload which exports nothing need not pay.
createRequire(import.meta.url)('./dist/register.js').startRecording({ hooks: true });
