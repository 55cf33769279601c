import { InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../config/errors';
import type { AnyTraceEvaluation } from '../experiment/evaluation/types';
import type { OtlpExport, OtlpExportResult } from '../experiment/otlp';
import { otlpTracesUrl } from '../experiment/otlp-url';
import { colors, warn } from './output';

// The OpenTelemetry SDK is loaded only when something is exported: it would add a tenth of a
// second to every run and evaluate command.
const otlp = () => require('../experiment/otlp') as typeof import('../experiment/otlp');

/** `--otlp <url>`, shared by `run experiment` and `evaluate experiment`; checked as it is read. */
export function otlpOption(): Option {
  return new Option(
    '--otlp <url>',
    "export each run as OpenTelemetry spans to this OTLP/HTTP collector: its base URL, /v1/traces appended unless given (default: OTEL_EXPORTER_OTLP_ENDPOINT)",
  ).argParser((value: string) => {
    try {
      return otlpTracesUrl(value, '--otlp');
    } catch (error) {
      throw new InvalidArgumentError((error as ConfigError).message.replace(/^--otlp /, ''));
    }
  });
}

/**
 * Where runs are exported: `--otlp` (already checked), else the OpenTelemetry variables, the
 * traces one as it is and the general one with `/v1/traces` appended, as the SDKs read them;
 * undefined when none is set. A variable that is not a URL is a ConfigError (exit 2).
 */
export function otlpEndpoint(flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const traces = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) {
    otlpTracesUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
    return new URL(traces).href;
  }
  const base = process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? otlpTracesUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT') : undefined;
}

/** Starts the export of an experiment's runs as they finish. */
export function startOtlpExport(url: string, experiment: string): OtlpExport {
  return otlp().createOtlpExport({ url, experiment });
}

/** Ends an export: its one warning, or on stderr how many runs went where. Never throws. */
export async function closeOtlpExport(exporter: OtlpExport | undefined, url: string | undefined): Promise<void> {
  if (exporter === undefined || url === undefined) return;
  tell(await exporter.close().catch((error: unknown) => ({ exported: 0, warning: `OTLP export to ${url} failed: ${(error as Error)?.message ?? String(error)}` })), url);
}

/** Exports an experiment folder's runs, with their verdicts when there are; tells as above. */
export async function exportFolderOtlp(url: string, dir: string, evaluations?: AnyTraceEvaluation[]): Promise<void> {
  const { exportExperimentFolder } = require('../experiment/otlp-folder') as typeof import('../experiment/otlp-folder');
  tell(await exportExperimentFolder({ url, dir, evaluations }), url);
}

function tell(result: OtlpExportResult, url: string): void {
  if (result.warning !== undefined) warn(result.warning);
  else process.stderr.write(`${colors.dim(`OTLP: ${result.exported} run${result.exported === 1 ? '' : 's'} exported to ${url}`)}\n`);
}
