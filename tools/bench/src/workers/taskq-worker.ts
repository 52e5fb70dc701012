import { DEFAULT_RETENTION, silentLogger } from '@taskq/recorder';
import { connectRedis, Consumer, Janitor } from '@taskq/queue';
import { WorkerPool } from '@taskq/worker-pool';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME, TASK_TYPE } from '../systems/producer';
import type { BenchWorker, WorkerFactory } from './bench-worker';

/**
 * taskq as the worker app runs it: a WorkerPool (reliable processing list,
 * status recorded and published on every transition, heartbeats from their
 * own thread) plus the janitor. Only the retention is raised so that every
 * finished task stays countable.
 */
export const startTaskqWorker: WorkerFactory = async (config, onTask) => {
  const redis = await connectRedis(config.url, { connectionName: 'bench-taskq-worker' });
  const queueConfig = {
    queue: QUEUE_NAME,
    retention: { maxCount: Math.max(DEFAULT_RETENTION.maxCount, config.retainAtLeast) },
  };
  const pool = new WorkerPool(
    new Consumer(redis, queueConfig, silentLogger),
    () => redis.duplicate(),
    silentLogger,
    { concurrency: config.concurrency, heartbeatRedisUrl: config.url },
    { [TASK_TYPE]: (task) => onTask(task.payload as BenchPayload) },
  );
  const janitor = new Janitor(redis, queueConfig, silentLogger);
  const worker: BenchWorker = {
    go: async () => {
      await pool.start();
      janitor.start();
    },
    stop: async () => {
      await pool.stop();
      await janitor.stop();
      await redis.quit();
    },
  };
  return worker;
};
