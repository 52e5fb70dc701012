import { silentLogger } from '@taskq/recorder';
import { DEFAULT_RETENTION } from '@taskq/queue';
import { WorkerPool } from '@taskq/worker-pool';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME, TASK_TYPE } from '../systems/producer';
import type { BenchWorker, WorkerFactory } from './bench-worker';

/** Set to '1' by the bench's --hand-off in its own environment, which the worker processes it forks inherit. */
export const HAND_OFF_ENV = 'TASKQ_BENCH_HAND_OFF';

/**
 * taskq as the worker app runs it: a WorkerPool (reliable processing list,
 * status recorded and published on every transition, heartbeats from their
 * own thread, the janitor). Only the retention is raised so that every
 * finished task stays countable. Weighted scenario: one pool over the
 * config's queues with their weights (`queues: { critical: 6, … }`).
 * Cluster scenario: the same over three queues with equal weights, and the
 * URL may be a `redis+cluster://` one, which the pool (and its heartbeat
 * thread) connect to as the worker app does.
 */
export const startTaskqWorker: WorkerFactory = async (config, onTask) => {
  // the library's defaults: heartbeats from a thread, the janitor on
  const pool = new WorkerPool({
    ...(config.queues ? { queues: Object.fromEntries(config.queues.map((q) => [q.name, q.weight])) } : { queue: QUEUE_NAME }),
    connection: config.url,
    logger: silentLogger,
    concurrency: config.concurrency,
    // the bench's --hand-off (the parent sets it for the worker processes it forks)
    handOff: process.env[HAND_OFF_ENV] === '1',
    retention: { maxCount: Math.max(DEFAULT_RETENTION.maxCount, config.retainAtLeast) },
    handlers: { [TASK_TYPE]: (task) => onTask(task.payload as BenchPayload) },
  });
  // connect now, so that starting the worker costs no connect
  await pool.connection.client();
  const worker: BenchWorker = {
    go: () => pool.start(),
    stop: async () => {
      await pool.stop();
    },
  };
  return worker;
};
