import { ConfigError } from '../../config/errors';
import { runRedaction } from '../../replay/execute';
import type { PlanIdentity } from '../identity';
import type { ExperimentSetup, SetupOptions } from '../plan';
import type { Runs } from '../runs';
import type { WorkOrder } from '../work-order';
import { checkQueueUrl } from './errors';
import { queueName } from './jobs';

/** What the command says of the queue and of how runs are made. */
export type QueueOptions = Pick<SetupOptions, 'fn' | 'downstream' | 'multiTurn'> & { queue?: string; configFile?: string; target?: string; onWarning?: (message: string) => void };

/**
 * The runs of an experiment: `local`, or, when a queue is named (`--queue`, else `runner.queue`),
 * the queue's in their stead, `local` closed (it checked the recordings). Called before the
 * experiment's folder is made, so that a Redis that cannot be reached leaves none.
 */
export async function queuedRuns(local: Runs, setup: ExperimentSetup, options: QueueOptions, plan: PlanIdentity): Promise<Runs> {
  const url = options.queue ?? setup.config.runner.queue;
  if (url === undefined) return local;
  await local.close();
  const flag = options.queue === undefined ? 'runner.queue' : '--queue';
  if (options.fn !== undefined) throw new ConfigError(`${flag} needs a target module (runner.target or --target): a function given in code cannot be sent to a worker`);
  checkQueueUrl(url, flag);
  const order: WorkOrder = {
    plan,
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.downstream === undefined ? {} : { downstream: options.downstream }),
    ...(options.multiTurn === undefined ? {} : { multiTurn: options.multiTurn }),
  };
  // BullMQ and ioredis are loaded only for an experiment that uses them.
  const { queueRuns } = require('./producer') as typeof import('./producer');
  return queueRuns({ url, order, queueName: queueName(setup.config.name), redaction: runRedaction(setup.harness.redact, setup.harness.limits), onWarning: options.onWarning });
}
