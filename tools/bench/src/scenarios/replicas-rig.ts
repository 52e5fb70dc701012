import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { infoField } from '../redis-admin';
import { redisTarget, type RedisTarget } from '../systems/producer';

/** How long the replica may take to sync with the master, and the master to see it gone, ms. */
const READY_TIMEOUT_MS = 20_000;
const POLL_MS = 10;

/** A master and one replica of it, redis-servers on loopback owned by the bench (free ports; never another Redis). */
export interface ReplicaRig {
  /** The master: where the producers write. */
  readonly target: RedisTarget;
  /** Admin connection to the master (FLUSHALL, WAIT, counts). */
  readonly master: Redis;
  /** Admin connection to the replica (counts), until stopReplica(). */
  readonly replica: Redis;
  /** Stops the replica and resolves once the master lists no replica (connected_slaves:0). */
  stopReplica(): Promise<void>;
  /** Stops both servers. */
  stop(): Promise<void>;
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${READY_TIMEOUT_MS} ms did not happen`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Starts a master (`--repl-diskless-sync-delay 0`: it syncs a new replica at
 * once instead of waiting 5 s for others) and a replica of it
 * (`--replicaof 127.0.0.1 <master>`), both without persistence like the
 * bench's own server, and resolves once the replica says
 * `master_link_status:up` and the master lists it (about 0.1 s).
 */
export async function startReplicaRig(): Promise<ReplicaRig> {
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  const stopAll = async (): Promise<void> => {
    for (const admin of admins.splice(0)) admin.disconnect();
    await Promise.all(servers.splice(0).reverse().map((s) => s.stop().catch(() => undefined)));
  };
  try {
    const master = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    servers.push(master);
    const replicaServer = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    servers.push(replicaServer);
    const masterAdmin = await connectRedis(master.url, { connectionName: 'bench-replicas-admin' });
    admins.push(masterAdmin);
    const replica = await connectRedis(replicaServer.url, { connectionName: 'bench-replicas-admin' });
    admins.push(replica);
    await waitUntil('the replica in sync with the master', async () => (await infoField(replica, 'replication', 'master_link_status')) === 'up');
    await waitUntil('the master listing its replica', async () => (await infoField(masterAdmin, 'replication', 'connected_slaves')) === '1');
    return {
      target: redisTarget(master.url),
      master: masterAdmin,
      replica,
      stopReplica: async () => {
        replica.disconnect();
        await replicaServer.stop();
        await waitUntil('the master seeing its replica gone', async () => (await infoField(masterAdmin, 'replication', 'connected_slaves')) === '0');
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
