import type { SystemName } from '../names';
import { LEAN_SYSTEMS } from '../reference/lean';
import type { WorkerFactory } from './bench-worker';
import { startBeeQueueWorker } from './bee-queue-worker';
import { startBullmqWorker } from './bullmq-worker';
import { leanWorkerFactory } from './lean-worker';
import { startTaskqWorker } from './taskq-worker';

/** Each system's worker, as the bench's worker processes (and the CPU probe) start it. */
export const WORKER_FACTORIES: Record<SystemName, WorkerFactory> = {
  taskq: startTaskqWorker,
  bullmq: startBullmqWorker,
  'bee-queue': startBeeQueueWorker,
  ...(Object.fromEntries(LEAN_SYSTEMS.map((s) => [s, leanWorkerFactory(s)])) as Record<(typeof LEAN_SYSTEMS)[number], WorkerFactory>),
};
