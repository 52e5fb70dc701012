import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '@taskq/recorder';
import type { QueueKeys } from './keys';
import { resolveClient, type QueueClientOptions } from './options';
import { quitQuietly, type RedisHandle } from './redis-handle';

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
  /** Subscriber connections this object opened (whoever owns the handle). */
  private readonly subscribers = new Set<Redis>();

  /** @param connectionName the name CLIENT LIST shows for a connection this object opens */
  protected constructor(options: QueueClientOptions, connectionName: string) {
    const { keys, handle, ownsHandle } = resolveClient(options, connectionName);
    this.keys = keys;
    this.connection = handle;
    this.ownsConnection = ownsHandle;
    this.logger = options.logger ?? silentLogger;
  }

  /** Before a start after a stop: lets the connection this object owns connect again (a shared one stays as its owner left it). */
  protected reopenOwnConnection(): void {
    if (this.ownsConnection) this.connection.reopen();
  }

  /** A subscriber connection of this object's own, closed by closeOwnConnection() (not by the handle's owner). */
  protected async openSubscriber(): Promise<Redis> {
    const sub = await this.connection.duplicate();
    this.subscribers.add(sub);
    sub.once('end', () => this.subscribers.delete(sub));
    return sub;
  }

  /**
   * Closes this object's subscriber connections, and its connection if it
   * opened it (never a client or handle it was given).
   */
  protected async closeOwnConnection(): Promise<void> {
    const subs = [...this.subscribers];
    this.subscribers.clear();
    await Promise.all(subs.map(quitQuietly));
    if (this.ownsConnection) await this.connection.close();
  }
}
