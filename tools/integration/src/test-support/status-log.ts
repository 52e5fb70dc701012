import { Monitor } from '@taskq/monitor';
import type { RedisClient } from '@taskq/queue';
import { silentLogger, type StatusRecord } from '@taskq/recorder';
import { closeClient, onDuplicate } from './redis-fixture';
import { waitUntil, withTimeout } from './wait';

/** A status record as the test's Monitor received it. */
export interface SeenRecord extends StatusRecord {
  readonly receivedAt: number;
}

/**
 * A Monitor (the library) on a queue that keeps every status change it
 * applies, in order: the way to see short-lived states (a task recovered to
 * Queued and fetched again a millisecond later) that the recorded status
 * alone no longer shows.
 */
export class StatusLog {
  readonly seen: SeenRecord[] = [];
  readonly monitor: Monitor;

  private readonly subscribers: RedisClient[] = [];

  private constructor(redis: RedisClient, queue: string) {
    // the monitor's commands go on `redis`; its subscriber connections (duplicate()) are opened and closed here
    const commands = Object.create(redis) as RedisClient;
    onDuplicate(commands, 'taskq-it-monitor', (subscriber) => this.subscribers.push(subscriber));
    this.monitor = new Monitor({ queue, connection: commands, logger: silentLogger, log: false });
    this.monitor.onStatus('*', '*', (record) => this.seen.push({ ...record, receivedAt: Date.now() }));
  }

  /** A log of `queue` whose Monitor runs its commands on `redis` (a server's client or a Cluster). */
  static async start(redis: RedisClient, queue: string): Promise<StatusLog> {
    const log = new StatusLog(redis, queue);
    await withTimeout(log.monitor.start(), 5000, 'the status-log monitor to subscribe');
    return log;
  }

  of(taskId: string): SeenRecord[] {
    return this.seen.filter((r) => r.id === taskId);
  }

  /** The statuses `taskId` went through, in order. */
  statuses(taskId: string): string[] {
    return this.of(taskId).map((r) => r.status);
  }

  /**
   * Resolves with the first record of `taskId` (already seen or still to
   * come) that matches a status name or a predicate.
   */
  waitFor(taskId: string, match: string | ((record: SeenRecord) => boolean), timeoutMs: number): Promise<SeenRecord> {
    const test = typeof match === 'string' ? (r: SeenRecord) => r.status === match : match;
    return waitUntil(() => this.of(taskId).find(test), {
      timeoutMs,
      intervalMs: 20,
      what: `${taskId} to be seen ${typeof match === 'string' ? match : 'as expected'}`,
      details: () => this.describe([taskId]),
    });
  }

  /** `id: Queued(0) InProgress(1, worker-…) …`, for failure messages. */
  describe(taskIds: readonly string[]): string {
    return taskIds
      .map((id) => `${id}: ${this.of(id).map((r) => `${r.status}(${r.attempt}${r.worker ? `, ${r.worker}` : ''}${r.reason ? `, ${r.reason}` : ''})`).join(' ')}`)
      .join('\n');
  }

  /** Stops the monitor, which quits its subscriber connection (closed here if stop() could not). */
  async stop(): Promise<void> {
    try {
      await this.monitor.stop();
    } finally {
      await Promise.all(this.subscribers.splice(0).map(closeClient));
    }
  }
}
