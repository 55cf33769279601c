import { ConfigError } from '../config/errors';
import { loadSimulationConfig } from '../config/simulation';
import { parseTarget } from '../config/targets';
import type { DownstreamReplayConfig, SimulationConfig } from '../config/types';
import type { HarnessOptions } from '../replay/harness';
import { planDifference, projectDigest, type PlanIdentity } from './identity';
import { harnessOf, multiTurnOf, soleRecordingTarget, type MultiTurnOverrides } from './plan';
import type { Runs } from './runs';
import { createSimulatedUser } from './simulated-user';
import { Supervisor } from './supervisor/supervisor';
import { pricesOf } from './usage';

/**
 * What a worker on another machine needs to make an experiment's runs: the plan's identity, and
 * the command's options that change how a run is made. The runs themselves (their recordings and
 * inputs) travel in the jobs; the worker's own project gives the code and the config, and must be
 * the plan's.
 */
export interface WorkOrder {
  plan: PlanIdentity;
  /** `--config`, relative to the project. */
  configFile?: string;
  /** `--target`. */
  target?: string;
  /** `--downstream`. */
  downstream?: Partial<DownstreamReplayConfig>;
  /** The multi-turn flags. */
  multiTurn?: MultiTurnOverrides;
}

/** `config` with `--target` over `runner.target`. */
export function withTarget(config: SimulationConfig, target: string | undefined): SimulationConfig {
  if (target === undefined) return config;
  parseTarget(target, { file: '--target' });
  return { ...config, runner: { ...config.runner, target } };
}

/** The config a command's options make: the project's (or `--config`), with `--target` over `runner.target`. */
export function configFor(root: string, options: { configFile?: string; target?: string }): SimulationConfig {
  return withTarget(loadSimulationConfig(root, options.configFile), options.target);
}

/** Makes runs on worker threads, under the project's isolation, timeout and supervision. */
export function threadRuns(root: string, config: SimulationConfig, harness: HarnessOptions, options: { concurrency?: number; multiTurn?: MultiTurnOverrides; configFile?: string; withUser: boolean }): Supervisor {
  const multiTurn = multiTurnOf(config, options.multiTurn);
  // Made on this thread for every thread's conversations: a missing key stops the command now.
  const user = multiTurn === undefined || !options.withUser ? undefined : createSimulatedUser(root, multiTurn.supervisor, options.configFile ?? 'configs/simulation.yaml');
  const { isolation, concurrency, timeout_ms: timeoutMs } = config.runner;
  return new Supervisor({
    harness,
    isolation,
    concurrency: options.concurrency ?? concurrency,
    timeoutMs,
    prices: pricesOf(config),
    ...(user === undefined ? {} : { simulatedUser: user }),
  });
}

/**
 * A worker's runs for `order`, made from this project. Refuses, with a ConfigError naming what
 * differs, when this project is not the one the plan was made from: mixed code must never end up
 * in one experiment.
 */
export function runsFor(root: string, order: WorkOrder, concurrency?: number): Runs {
  const config = configFor(root, order);
  const target = config.runner.target ?? soleRecordingTarget(config);
  const mine = projectDigest(root, config.raw, target);
  if (mine.fluxloop_version !== order.plan.fluxloop_version || mine.project !== order.plan.project) {
    const difference = planDifference(order.plan, { ...order.plan, ...mine, parts: { ...order.plan.parts, project: mine.project } });
    throw new ConfigError(`this worker's project is not the one plan ${order.plan.hash} was made from (${difference} differ): deploy the experiment's commit and fluxloop ${order.plan.fluxloop_version} here`);
  }
  return threadRuns(root, config, harnessOf(root, config, target, order.downstream), { ...order, withUser: true, ...(concurrency === undefined ? {} : { concurrency }) });
}
