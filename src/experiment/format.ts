/**
 * How numbers read wherever fluxloop shows them to people: the console, the Markdown summary, the
 * HTML report (which embeds these functions' source, so that the page and the CLI agree) and the
 * VS Code extension (which compiles this file in).
 * Files meant for programs (summary.json, traces.jsonl) keep raw numbers.
 *
 * Each function is self-contained (no imports, no helpers outside it) for that reason.
 */

/** A duration: `42 ms`, `41.6 ms`, `0.3 ms`; never `-0 ms`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const rounded = Math.round(ms * 10) / 10;
  return `${rounded === 0 ? 0 : rounded} ms`;
}

/** A rate from 0 to 1 as a percentage: `40%`, `41.7%`, `100%`. */
export function formatPercent(rate: number): string {
  if (!Number.isFinite(rate)) return '–';
  const rounded = Math.round(rate * 1000) / 10;
  return `${rounded === 0 ? 0 : rounded}%`;
}

/** A change of duration, signed: `+3.2 ms`, `-1 ms`, `0 ms`. */
export function formatDeltaMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const rounded = Math.round(ms * 10) / 10;
  return rounded > 0 ? `+${rounded} ms` : `${rounded === 0 ? 0 : rounded} ms`;
}

/** A change of rate, in percentage points: `+10 pts`, `-2.5 pts`, `0 pts`. */
export function formatDeltaPoints(delta: number): string {
  if (!Number.isFinite(delta)) return '–';
  const rounded = Math.round(delta * 1000) / 10;
  return rounded > 0 ? `+${rounded} pts` : `${rounded === 0 ? 0 : rounded} pts`;
}

/** A length of time for a progress line: `45 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A moment (an ISO timestamp) in local time, to the minute: `2025-01-02 09:05`; `–` when it is no date. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A size in bytes for people: `812 B`, `3.4 KB`, `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A cost in US dollars: `$0`, `$0.0123` under a dollar (four places: a run costs cents), `$12.34`, `$1,234.50` from one. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '–';
  if (usd === 0) return '$0';
  if (Math.abs(usd) < 0.0001) return usd < 0 ? '-<$0.0001' : '<$0.0001';
  const digits = Math.abs(usd) < 1 ? 4 : 2;
  return `${usd < 0 ? '-' : ''}$${Math.abs(usd).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A count of tokens, grouped by thousands: `12,345`. */
export function formatTokens(count: number): string {
  if (!Number.isFinite(count)) return '–';
  return Math.round(count).toLocaleString('en-US');
}
