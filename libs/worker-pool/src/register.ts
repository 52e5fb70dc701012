import { registerOnce, resolveCore, resolveOptional, TOKENS, type Container } from '@taskq/queue';
import type { HandlerMap } from './handler';
import type { WorkerPoolSettings } from './options';
import { WorkerPool } from './worker-pool';

/**
 * Registers WorkerPool in a tsyringe container (or any with
 * `register`/`resolve`/`isRegistered`), built once from TOKENS.Connection,
 * TOKENS.QueueConfig, and when registered TOKENS.Logger,
 * TOKENS.WorkerPoolOptions (its settings) and TOKENS.Handlers. No
 * `reflect-metadata` needed.
 */
export function registerWorkerPool<C extends Container>(c: C): C {
  registerOnce(c, WorkerPool, (r) => {
    const { connection, config, logger } = resolveCore(r);
    const settings = resolveOptional<WorkerPoolSettings>(r, TOKENS.WorkerPoolOptions, {});
    const handlers = resolveOptional<HandlerMap>(r, TOKENS.Handlers, {});
    return new WorkerPool({ ...settings, ...config, connection, logger, handlers });
  });
  return c;
}
