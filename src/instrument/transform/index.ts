import { subscribe, tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { TargetSpec } from '../../config/types';
import type { LocatedTarget } from '../targets';
import type { TransformPlan } from './apply';
import { patchCompile } from './compile';
import { hookInThread, inThreadHooks } from './sync-hooks';
import type { LoaderData } from './loader.mjs';
import { callChannel, REPORT_CHANNEL, type ModuleReport, type TargetReport } from './channels';

export type { TargetReport } from './channels';

/** The message of a target's call: its arguments and `this`, then what it returned or threw. */
export interface CallMessage {
  arguments: unknown[];
  self: unknown;
  /** Which of the target's functions was called: 0, or 1… for the others of `TargetReport.variants`. */
  variant: number;
  /** Set by a start subscriber that must see the call through: the call is made by it, as `run()`. */
  around?: (run: () => unknown) => unknown;
  result?: unknown;
  error?: unknown;
}

export type CallChannel = TracingChannel<unknown, CallMessage>;

/**
 * Instruments targets in place by transforming the source of their files as they load: CommonJS
 * through `Module.prototype._compile`, and through `module.registerHooks` where Node has it
 * working, else ES modules through a loader hook on Node's loader thread. Each transformed
 * module reports what it found for each of its targets when it first runs; each target's calls
 * are published to its tracing channel, which `channelOf` gives.
 */
export function transformTargets(targets: readonly LocatedTarget[], onReport: (report: TargetReport) => void, cacheDir?: string): void {
  if (targets.length === 0) return;
  const files = new Map<string, TargetSpec[]>();
  for (const { spec, file } of targets) files.set(file, [...(files.get(file) ?? []), spec]);
  const reportAll = (reports: readonly TargetReport[]): void => reports.forEach((r) => onReport(r));
  subscribe(REPORT_CHANNEL, (message) => {
    const report = message as ModuleReport;
    if (files.has(report.file)) reportAll(report.targets);
  });
  const plan: TransformPlan = { files, cacheDir, onUnread: reportAll };
  try {
    // Every version: a `require` that a loader passes its own source to (tsx's, for one) reaches
    // `_compile` and no hook.
    patchCompile(plan);
    const registerHooks = inThreadHooks();
    if (registerHooks !== undefined) return hookInThread(registerHooks, plan);
    // Loaded only here: where hooks run in-thread, nothing needs a port.
    const { MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
    const { port1, port2 } = new MessageChannel();
    port1.on('message', reportAll);
    port1.unref();
    register('./loader.mjs', pathToFileURL(__filename), {
      data: { files: Object.fromEntries(files), cacheDir, port: port2 } satisfies LoaderData,
      transferList: [port2],
    });
  } catch (error) {
    // A thread where Node takes no hooks: its targets go unrecorded, and the app runs as it would.
    const reason = `the module hooks could not be installed: ${(error as Error)?.message ?? String(error)}`;
    reportAll(targets.map(({ spec }) => ({ target: spec.spec, ok: false, reason })));
  }
}

/** The tracing channel of a transformed target's calls. */
export function channelOf(target: string): CallChannel {
  return tracingChannel(callChannel(target)) as CallChannel;
}
