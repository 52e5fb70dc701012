import BeeQueue from 'bee-queue';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME } from '../systems/producer';
import type { BenchWorker, WorkerFactory } from './bench-worker';

/** How often the worker looks for stalled jobs, as bee-queue's README recommends (its stallInterval, 5 s). */
const STALL_CHECK_MS = 5000;

/**
 * bee-queue's worker queue with `process(concurrency, handler)`, jobs removed
 * on success, job events still sent (like taskq's published statuses); it
 * neither receives events nor stores job objects, which it does not need.
 */
export const startBeeQueueWorker: WorkerFactory = async (config, onTask) => {
  if (config.queues) throw new Error('the bench runs bee-queue on its one queue only (it has no job priorities)');
  const url = new URL(config.url);
  const queue = new BeeQueue<BenchPayload>(QUEUE_NAME, {
    redis: { host: url.hostname, port: Number(url.port) },
    isWorker: true,
    getEvents: false,
    storeJobs: false,
    removeOnSuccess: true,
  });
  let failure: Error | undefined;
  queue.on('error', (err) => {
    failure ??= err;
  });
  await queue.ready();
  const bench: BenchWorker = {
    go: async () => {
      queue.process(config.concurrency, async (job) => {
        onTask(job.data);
      });
      void queue.checkStalledJobs(STALL_CHECK_MS);
    },
    stop: async () => {
      await queue.close();
      if (failure) throw failure;
    },
  };
  return bench;
};
