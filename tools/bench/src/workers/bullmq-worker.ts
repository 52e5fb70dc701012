import { Worker } from 'bullmq';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME } from '../systems/producer';
import { splitConcurrency } from '../weighted';
import type { BenchWorker, WorkerFactory } from './bench-worker';

/**
 * BullMQ's Worker with `concurrency` and otherwise its defaults (stalled-job
 * checks on). Weighted scenario: BullMQ has no worker over several queues,
 * so one Worker per queue in this process, the concurrency split by the
 * queues' weights (50 by 6:3:1: 30, 15, 5) — the nearest BullMQ setup, not
 * the same thing: a Worker whose queue is empty does not lend its share to
 * the others.
 */
export const startBullmqWorker: WorkerFactory = async (config, onTask) => {
  const url = new URL(config.url);
  const queues = config.queues ?? [{ name: QUEUE_NAME, weight: 1 }];
  const shares = config.queues ? splitConcurrency(config.concurrency, queues.map((q) => q.weight)) : [config.concurrency];
  let failure: Error | undefined;
  const workers = queues.map((queue, i) => {
    const worker = new Worker<BenchPayload>(
      queue.name,
      async (job) => {
        onTask(job.data);
      },
      {
        connection: { host: url.hostname, port: Number(url.port), connectionName: config.queues ? `bench-bullmq-worker-${queue.name}` : 'bench-bullmq-worker' },
        concurrency: shares[i] ?? 1,
        autorun: false,
      },
    );
    worker.on('error', (err) => {
      failure ??= err;
    });
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  let running: Promise<unknown> = Promise.resolve();
  const bench: BenchWorker = {
    go: async () => {
      running = Promise.all(workers.map((w) => w.run()));
    },
    stop: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await running;
      if (failure) throw failure;
    },
  };
  return bench;
};
