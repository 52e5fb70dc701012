import { Worker } from 'bullmq';
import type { BenchPayload } from '../payload';
import { bullmqConnection } from '../systems/bullmq-connection';
import { QUEUE_NAME } from '../systems/producer';
import { splitConcurrency } from '../weighted';
import type { BenchWorker, WorkerFactory } from './bench-worker';

/**
 * BullMQ's Worker with `concurrency` and otherwise its defaults (stalled-job
 * checks on). Weighted scenario: BullMQ has no worker over several queues,
 * so one Worker per queue in this process, the concurrency split by the
 * queues' weights (50 by 6:3:1: 30, 15, 5) — the nearest BullMQ setup, not
 * the same thing: a Worker whose queue is empty does not lend its share to
 * the others. Cluster scenario: the same over three queues with equal
 * weights, on a Redis Cluster when the URL says so (an ioredis Cluster per
 * Worker, the queue's hash tag as prefix).
 */
export const startBullmqWorker: WorkerFactory = async (config, onTask) => {
  const queues = config.queues ?? [{ name: QUEUE_NAME, weight: 1 }];
  const shares = config.queues ? splitConcurrency(config.concurrency, queues.map((q) => q.weight)) : [config.concurrency];
  let failure: Error | undefined;
  const connections = queues.map((queue) => bullmqConnection(config.url, queue.name, config.queues ? `bench-bullmq-worker-${queue.name}` : 'bench-bullmq-worker'));
  const workers = queues.map((queue, i) => {
    const { connection, prefix } = connections[i];
    const worker = new Worker<BenchPayload>(
      queue.name,
      async (job) => {
        onTask(job.data);
      },
      { connection, ...(prefix === undefined ? {} : { prefix }), concurrency: shares[i] ?? 1, autorun: false },
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
      await Promise.all(connections.map((c) => c.close()));
      if (failure) throw failure;
    },
  };
  return bench;
};
