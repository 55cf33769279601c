/**
 * Runs `flush` before the process goes away, whichever way it goes: a normal exit,
 * `process.exit()`, an uncaught exception, SIGINT, SIGTERM or SIGHUP. The app must behave exactly
 * as without us, so a signal the app does not handle still ends the process the default way.
 */
export function onShutdown(flush: () => void): void {
  const safeFlush = () => {
    try {
      flush();
    } catch {
      // Never let the recorder change how the process ends.
    }
  };
  process.on('exit', safeFlush);
  process.on('uncaughtExceptionMonitor', safeFlush);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      safeFlush();
      // Having a listener at all turns off Node's default of dying on the signal. When ours is
      // the only one, give the default back and raise the signal again, so the exit code and
      // the parent's view of how we died stay what they were.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
