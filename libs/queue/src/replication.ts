import { isClusterClient } from './lua-script';
import type { RedisClient } from './redis-handle';

/**
 * Wait for replicas after writes (Redis's WAIT): a write the master confirmed
 * is lost at a failover if no replica had it yet (replication is
 * asynchronous). Off by default.
 */
export interface ReplicationOptions {
  /** Replicas that must have the writes: 1 or more. */
  readonly replicas: number;
  /** How long to wait for them, ms (0: as long as it takes). Default 1000. */
  readonly timeoutMs?: number;
}

export const DEFAULT_REPLICATION_TIMEOUT_MS = 1000;

/** Checks `options` (a clear TypeError for a bad one) and fills in the default timeout. */
export function resolveReplication(options: ReplicationOptions | undefined): Required<ReplicationOptions> | undefined {
  if (options === undefined) return undefined;
  const { replicas, timeoutMs = DEFAULT_REPLICATION_TIMEOUT_MS } = options;
  if (!Number.isInteger(replicas) || replicas < 1) throw new TypeError(`waitForReplicas.replicas must be an integer of 1 or more, got ${String(replicas)}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new TypeError(`waitForReplicas.timeoutMs must be an integer of 0 or more, got ${String(timeoutMs)}`);
  return { replicas, timeoutMs };
}

/**
 * The socket a server client sends over now (undefined on a Cluster: one per
 * node). A WAIT counts only the writes of its own connection: after a
 * reconnect in between (a failover), the writes went over another one.
 */
export function linkOf(redis: RedisClient): unknown {
  return isClusterClient(redis) ? undefined : (redis as unknown as { stream?: unknown }).stream;
}

/**
 * Sends WAIT on the connection the writes went over and resolves with how many
 * replicas confirmed them. WAIT covers every earlier write of its connection:
 * on a server, the client's one connection; on a Cluster, the connection to
 * the node of `routeKey` (the WAIT is pipelined behind a command on that key).
 * While it waits, commands sent after it on that connection wait too.
 */
export async function waitForReplicas(redis: RedisClient, routeKey: string, replicas: number, timeoutMs: number): Promise<number> {
  if (isClusterClient(redis)) {
    const replies = await redis.pipeline().exists(routeKey).wait(replicas, timeoutMs).exec();
    const [err, value] = replies?.[1] ?? [new Error('no reply to WAIT')];
    if (err) throw err;
    return Number(value);
  }
  return (redis).wait(replicas, timeoutMs);
}
