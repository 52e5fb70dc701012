import type { SystemName } from '../names';
import type { BenchPayload } from '../payload';

/** Where a system's Redis is: the bench's own redis-server, or (cluster scenario) its Redis Cluster. */
export interface RedisTarget {
  /** `redis://…`, or `redis+cluster://…` for the cluster, whose first seed `host` and `port` then name. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** How far a queue of `total` tasks got, read from Redis. */
export interface Progress {
  /** Tasks not finished yet (queued or running). */
  readonly remaining: number;
  /** Tasks that failed, are retrying or were rejected: a no-op handler never fails, so any is an error. */
  readonly failed: number;
}

/** The producer side of one system, in the bench's own process. */
export interface Producer {
  readonly system: SystemName;
  /**
   * Enqueues these payloads through the system's bulk API, in one call;
   * with `priorities` (taskq's 0–9, one per payload; higher first) each task
   * gets its priority. Systems without priorities throw when given them.
   */
  enqueueBulk(payloads: readonly BenchPayload[], priorities?: readonly number[]): Promise<void>;
  /** Enqueues one payload through the system's single-task API. */
  enqueueOne(payload: BenchPayload): Promise<void>;
  /** Tasks queued and not yet started (to check that an enqueue stored them all). */
  queued(): Promise<number>;
  /** Progress of a queue into which `total` tasks were enqueued (a few cheap reads). */
  progress(total: number): Promise<Progress>;
  close(): Promise<void>;
}

/** Name of the one queue every system uses (the weighted scenario: three others); the server is flushed between runs. */
export const QUEUE_NAME = 'bench';

/** The task type (BullMQ job name) of every task. */
export const TASK_TYPE = 'noop';

/** Throws unless `priorities`, when given, has one entry per payload. */
export function checkPriorities(payloads: readonly unknown[], priorities: readonly number[] | undefined): void {
  if (priorities !== undefined && priorities.length !== payloads.length) {
    throw new RangeError(`${priorities.length} priorities for ${payloads.length} payloads`);
  }
}

export function redisTarget(url: string): RedisTarget {
  const u = new URL(url);
  return { url, host: u.hostname, port: Number(u.port || 6379) };
}
