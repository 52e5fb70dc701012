import type { BenchPayload } from '../payload';
import type { WorkerConfig } from './protocol';

/** Called at the start of every task with its payload. */
export type OnTask = (payload: BenchPayload) => void;

/**
 * One system's worker inside a worker process. Created connected and idle;
 * `go()` starts taking tasks; `stop()` closes it gracefully.
 */
export interface BenchWorker {
  go(): Promise<void>;
  stop(): Promise<void>;
}

export type WorkerFactory = (config: WorkerConfig, onTask: OnTask) => Promise<BenchWorker>;
