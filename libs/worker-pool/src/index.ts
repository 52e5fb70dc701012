export { WorkerPool, PoolState } from './worker-pool';
export type { StopResult } from './worker-pool';
export type { WorkerPoolOptions } from './options';
export type { TaskHandler, TaskContext, HandlerMap } from './handler';
export { failureReason } from './handler';
export { sleepTask } from './sleep-task';
export type { SleepPayload } from './sleep-task';
export { POOL_TOKENS } from './tokens';
