import { Cluster } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import { isClusterUrl, parseClusterUrl } from '@taskq/queue';
import { bullmqClusterPrefix } from '../cluster';

/** How a BullMQ Queue or Worker of the bench connects: its `connection` and `prefix`, and what to close after it. */
export interface BullmqConnection {
  readonly connection: ConnectionOptions;
  /** undefined: BullMQ's default (`bull`). */
  readonly prefix: string | undefined;
  /** Closes what the bench opened for BullMQ (a Cluster client; BullMQ closes only the connections it made). */
  close(): Promise<void>;
}

/**
 * The connection of BullMQ to `url` for `queue`. A server: host and port, as
 * BullMQ makes its own clients from options. A `redis+cluster://` URL: an
 * ioredis Cluster of its seeds (BullMQ duplicates it for a Worker's blocking
 * connection, so `maxRetriesPerRequest: null`, which BullMQ requires there),
 * and the queue's own hash tag as prefix (see bullmqClusterPrefix).
 */
export function bullmqConnection(url: string, queue: string, connectionName: string): BullmqConnection {
  if (!isClusterUrl(url)) {
    const u = new URL(url);
    return { connection: { host: u.hostname, port: Number(u.port || 6379), connectionName }, prefix: undefined, close: async () => undefined };
  }
  const cluster = new Cluster([...parseClusterUrl(url).seeds], { redisOptions: { connectionName, maxRetriesPerRequest: null } });
  return {
    connection: cluster,
    prefix: bullmqClusterPrefix(queue),
    close: async () => {
      await cluster.quit().catch(() => cluster.disconnect());
    },
  };
}
