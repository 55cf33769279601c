/** What one doctor check found. `skip`: it could not run, because something it needs is broken or absent. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable, for scripts: `node`, `config`, `recording-target:app/agent.js:handle`, … */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about it: a command to run or an edit to make. Only when the status is not ok. */
  fix?: string;
}

export interface DoctorReport {
  /** No check failed; warnings do not count. */
  ok: boolean;
  checks: Check[];
}

export function check(id: string, title: string, status: CheckStatus, detail: string, fix?: string): Check {
  return fix === undefined || status === 'ok' ? { id, title, status, detail } : { id, title, status, detail, fix };
}

/** An error as one line: its message, without a stack. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
