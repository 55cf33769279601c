// `node --import fluxloop/register app.js`: records the configured targets when FLUXLOOP_RECORD_ARGS=true.
import { startRecording } from './dist/register.js';

startRecording({ hooks: true });
