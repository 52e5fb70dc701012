import { Worker } from 'bullmq';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME } from '../systems/producer';
import type { BenchWorker, WorkerFactory } from './bench-worker';

/** BullMQ's Worker with `concurrency` and otherwise its defaults (stalled-job checks on). */
export const startBullmqWorker: WorkerFactory = async (config, onTask) => {
  const url = new URL(config.url);
  const worker = new Worker<BenchPayload>(
    QUEUE_NAME,
    async (job) => {
      onTask(job.data);
    },
    {
      connection: { host: url.hostname, port: Number(url.port), connectionName: 'bench-bullmq-worker' },
      concurrency: config.concurrency,
      autorun: false,
    },
  );
  let failure: Error | undefined;
  worker.on('error', (err) => {
    failure ??= err;
  });
  await worker.waitUntilReady();
  let running: Promise<void> = Promise.resolve();
  const bench: BenchWorker = {
    go: async () => {
      running = worker.run();
    },
    stop: async () => {
      await worker.close();
      await running;
      if (failure) throw failure;
    },
  };
  return bench;
};
