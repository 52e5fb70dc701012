import { Consumer, type QueueConfig, type RedisClient } from '@taskq/queue';
import { WorkerPool, type HandlerMap, type WorkerPoolOptions } from '@taskq/worker-pool';
import { CaptureLogger } from './capture-logger';
import { closeClient, newClient, onDuplicate, testRedisUrl } from './redis-fixture';
import { withTimeout } from './wait';

/** A WorkerPool (the library) running in the test process, with the logger that records its lines. */
export interface RunningPool {
  readonly pool: WorkerPool;
  readonly consumer: Consumer;
  readonly logger: CaptureLogger;
}

/**
 * Library-level worker pools in the test process, for handlers the worker
 * app does not have (throwing non-Errors, behaviour the test switches).
 * `stopAll()` (afterEach) stops every pool and closes its connections.
 */
export class InProcessPools {
  private readonly running: RunningPool[] = [];
  private readonly connections: RedisClient[] = [];

  async start(config: QueueConfig, handlers: HandlerMap, options: WorkerPoolOptions = {}, url: string = testRedisUrl()): Promise<RunningPool> {
    const logger = new CaptureLogger();
    const commands = newClient(url, { connectionName: 'taskq-it-pool', maxRetriesPerRequest: null });
    this.connections.push(commands);
    // its subscriber connection, closed by stopAll() too
    onDuplicate(commands, 'taskq-it-pool-sub', (sub) => this.connections.push(sub));
    const pool = new WorkerPool({ ...config, connection: commands, logger, graceMs: 0, ...options, handlers });
    const consumer = pool.consumer;
    const running = { pool, consumer, logger };
    this.running.push(running);
    await withTimeout(pool.start(), 5000, 'the in-process pool to start');
    return running;
  }

  async stopAll(): Promise<void> {
    for (const { pool } of this.running.splice(0)) {
      await withTimeout(pool.stop(0), 5000, 'an in-process pool to stop').catch(() => undefined);
    }
    await Promise.all(this.connections.splice(0).map(closeClient));
  }
}
