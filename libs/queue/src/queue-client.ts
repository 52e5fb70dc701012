import { silentLogger, type Logger } from '@taskq/recorder';
import type { QueueKeys } from './keys';
import { resolveClient, type QueueClientOptions } from './options';
import type { RedisHandle } from './redis-handle';

/**
 * What every taskq object of one queue has: the queue's keys, a connection
 * (its own, opened from a URL or options, or shared: a client or another
 * object's handle it was given) and a logger. Queue, Consumer, Janitor,
 * Monitor and WorkerPool extend it.
 */
export abstract class QueueClient {
  readonly keys: QueueKeys;
  /** This object's connection; another taskq object given it as `connection` shares it. */
  readonly connection: RedisHandle;
  protected readonly logger: Logger;
  private readonly ownsConnection: boolean;

  /** @param connectionName the name CLIENT LIST shows for a connection this object opens */
  protected constructor(options: QueueClientOptions, connectionName: string) {
    const { keys, handle, ownsHandle } = resolveClient(options, connectionName);
    this.keys = keys;
    this.connection = handle;
    this.ownsConnection = ownsHandle;
    this.logger = options.logger ?? silentLogger;
  }

  /** Closes the connection if this object opened it (never a client or handle it was given). */
  protected async closeOwnConnection(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }
}
