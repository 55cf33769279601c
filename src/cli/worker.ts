import type { Command } from 'commander';
import { ConfigError } from '../config/errors';
import { checkQueueUrl, maskUrl } from '../experiment/queue/errors';
import { queueName } from '../experiment/queue/jobs';
import { configFor } from '../experiment/work-order';
import { integerAtLeast } from './arguments';
import { existingProjectRootOf, print, warn } from './output';

interface WorkerOptions {
  queue?: string;
  concurrency?: number;
  config?: string;
  verbose?: boolean;
}

// The shell's codes for a process ended by SIGINT and SIGTERM, for a second signal.
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

/** Registers `fluxloop worker`. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description("make the runs of experiments sent with --queue (or runner.queue), from this project: start one on each machine; SIGTERM finishes its runs in progress, then stops it")
    .option('--queue <url>', 'the Redis the runs are queued on: redis://host:port (default: runner.queue)')
    .option('--concurrency <n>', 'runs at once (default: runner.concurrency)', integerAtLeast(1))
    .option('--config <file>', 'read this config instead of configs/simulation.yaml (the experiments must use the same)')
    .option('--verbose', 'print a line for each run as it finishes')
    .action(async (options: WorkerOptions, command: Command) => {
      const root = existingProjectRootOf(command);
      // Calls during a replay are never recorded, as in `run experiment`.
      process.env.FLUXLOOP_RECORD_ARGS = 'false';
      const config = configFor(root, { configFile: options.config });
      const url = options.queue ?? config.runner.queue;
      if (url === undefined) throw new ConfigError('no queue to take runs from: give --queue redis://host:port, or set runner.queue in the config');
      checkQueueUrl(url, options.queue === undefined ? 'runner.queue' : '--queue');
      const concurrency = options.concurrency ?? config.runner.concurrency;
      const name = queueName(config.name);
      const { startWorker } = require('../experiment/queue/worker') as typeof import('../experiment/queue/worker');
      const worker = await startWorker({
        url,
        root,
        queueName: name,
        concurrency,
        log: (kind, line) => {
          if (kind === 'warn') warn(line);
          else if (options.verbose) print(line);
        },
      });
      print(`worker ready: queue ${name} at ${maskUrl(url)}, concurrency ${concurrency}`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      warn(`${signal}: finishing the runs in progress, taking no new ones (send it again to stop at once)`);
      // A second signal ends the process at once; its runs go back to the queue once their locks lapse.
      const again = (s: NodeJS.Signals) => process.exit(s === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      const clean = await worker.close();
      print('worker stopped');
      if (!clean) {
        warn(`Redis at ${maskUrl(url)} was away as the worker stopped: the results it could not hand in go back to the queue as runs to make, once their locks lapse`);
        // BullMQ keeps timers for a Redis that is not there; nothing is left to do.
        process.exit(0);
      }
    });
}
