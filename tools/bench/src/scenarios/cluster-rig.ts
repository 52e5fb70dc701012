import type { Redis } from 'ioredis';
import { connectRedis, queueKeys } from '@taskq/queue';
import { startRedisCluster, type RedisCluster } from '@taskq/redis-harness';
import { CLUSTER_MASTERS, pickQueuesOnNodes } from '../cluster';
import { flushAll } from '../redis-admin';
import type { RedisTarget } from '../systems/producer';
import type { BenchContext } from './context';

/** Where a layout of the cluster scenario runs: the Redis to use, its redis-server pids, how to empty it. */
export interface ClusterSite {
  readonly target: RedisTarget;
  /** Every redis-server of the site, for their CPU time in /proc. */
  readonly redisPids: readonly number[];
  /** FLUSHALL on every node. */
  flush(): Promise<void>;
}

/** The two sites of the cluster scenario and the queue names whose slots are on the cluster's three masters. */
export interface ClusterRig {
  /** The bench's own redis-server. */
  readonly single: ClusterSite;
  /** A private Redis Cluster of 3 masters on loopback (`startRedisCluster()` of the harness). */
  readonly cluster: ClusterSite;
  /** One queue per master, in slot order; the 3-queue layouts of both sites use them. */
  readonly queues: readonly string[];
  /** Stops the cluster (the bench's server stays). */
  stop(): Promise<void>;
}

/**
 * Starts the cluster (about 2 s), opens an admin connection to each master,
 * and picks the queue names: `bench-cl-<i>` whose keys (taskq's
 * `taskq:{q}:…`, BullMQ's `{q}:q:…`: the slot of `q`) are on each master.
 */
export async function startClusterRig(ctx: BenchContext): Promise<ClusterRig> {
  const cluster: RedisCluster = await startRedisCluster({ masters: CLUSTER_MASTERS });
  const admins: Redis[] = [];
  try {
    for (const node of cluster.nodes) admins.push(await connectRedis(node.url, { connectionName: 'bench-cluster-admin' }));
    const queues = await pickQueuesOnNodes(
      (queue) => cluster.nodeOf(queueKeys(queue).ready),
      cluster.nodes.map((node) => node.port),
    );
    const [first] = cluster.seeds;
    return {
      single: { target: ctx.target, redisPids: [ctx.serverPid], flush: () => flushAll(ctx.admin) },
      cluster: {
        target: { url: cluster.url, host: first.host, port: first.port },
        redisPids: cluster.nodes.map((node) => node.pid),
        flush: async () => {
          await Promise.all(admins.map((admin) => flushAll(admin)));
        },
      },
      queues,
      stop: async () => {
        for (const admin of admins) admin.disconnect();
        await cluster.stop();
      },
    };
  } catch (err) {
    for (const admin of admins) admin.disconnect();
    await cluster.stop();
    throw err;
  }
}
