import type { DoctorReport } from './cli-json';
import { plural } from './format';

const MARKS: Record<DoctorReport['checks'][number]['status'], string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/** `fluxloop doctor --json` as the output channel shows it: a line a check, its fix under it. */
export function renderDoctor(report: DoctorReport): string {
  const width = Math.max(0, ...report.checks.map((c) => c.title.length));
  const lines = report.checks.flatMap((c) => [
    `${MARKS[c.status]} ${c.title.padEnd(width)}  ${c.detail}`,
    ...(c.fix ? [`  ${' '.repeat(width)}  → ${c.fix}`] : []),
  ]);
  return [...lines, '', doctorSummary(report)].join('\n');
}

/** "2 problems to fix, 1 warning." */
export function doctorSummary(report: DoctorReport): string {
  const count = (status: string) => report.checks.filter((c) => c.status === status).length;
  const [failed, warned] = [count('fail'), count('warn')];
  if (failed > 0) return `${plural(failed, 'problem')} to fix${warned ? `, ${plural(warned, 'warning')}` : ''}.`;
  return warned > 0 ? `No problems, ${plural(warned, 'warning')}.` : 'No problems.';
}

/** Any JSON as indented `key: value` lines, the way YAML reads. */
export function renderObject(value: unknown, indent = '  '): string {
  return lines(value, indent).join('\n');
}

function scalar(value: unknown): string {
  return value === null ? '—' : typeof value === 'string' ? value : JSON.stringify(value);
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object' || (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object'));
}

function lines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) {
    if (isScalar(value)) return [`${indent}${value.map(scalar).join(', ') || '(none)'}`];
    return value.flatMap((item) => {
      const [first, ...rest] = lines(item, `${indent}  `);
      return first === undefined ? [`${indent}- (empty)`] : [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => {
      if (isScalar(v)) return [`${indent}${key}: ${Array.isArray(v) ? v.map(scalar).join(', ') || '(none)' : scalar(v)}`];
      if (Array.isArray(v) && v.length === 0) return [`${indent}${key}: (none)`];
      return [`${indent}${key}:`, ...lines(v, `${indent}  `)];
    });
  }
  return [`${indent}${scalar(value)}`];
}
