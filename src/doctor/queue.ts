import { check, messageOf, type Check } from './check';
import { configLabel, type DoctorContext } from './context';

const ID = 'queue';
const TITLE = 'queue';

/**
 * When `runner.queue` is set: that its Redis answers, and how many `fluxloop worker`s take this
 * project's jobs. BullMQ is loaded only then.
 */
export async function checkQueue(ctx: DoctorContext): Promise<Check> {
  if (!ctx.config.ok) return check(ID, TITLE, 'skip', `${configLabel(ctx)} does not load`);
  const url = ctx.config.value.runner.queue;
  if (url === undefined) return check(ID, TITLE, 'skip', 'runner.queue is not set: experiments run on this machine (see "Running at scale" in the README)');
  const { checkRedis } = require('../experiment/queue/connection') as typeof import('../experiment/queue/connection');
  const { maskUrl } = require('../experiment/queue/errors') as typeof import('../experiment/queue/errors');
  const { queueName } = require('../experiment/queue/jobs') as typeof import('../experiment/queue/jobs');
  try {
    await checkRedis(url);
  } catch (error) {
    return check(ID, TITLE, 'fail', messageOf(error), 'start Redis there, or fix runner.queue in the config');
  }
  const { Queue } = require('bullmq') as typeof import('bullmq');
  const name = queueName(ctx.config.value.name);
  const queue = new Queue(name, { connection: { url } });
  queue.on('error', () => undefined);
  try {
    const workers = await queue.getWorkersCount();
    const where = `queue ${name} at ${maskUrl(url)}`;
    if (workers === 0) return check(ID, TITLE, 'warn', `Redis answers, but no fluxloop worker takes jobs from ${where}: queued experiments will wait`, 'start `npx fluxloop worker` in this project, on each machine of the pool');
    return check(ID, TITLE, 'ok', `${workers} fluxloop worker${workers === 1 ? ' takes' : 's take'} jobs from ${where}`);
  } finally {
    await queue.close().catch(() => undefined);
  }
}
