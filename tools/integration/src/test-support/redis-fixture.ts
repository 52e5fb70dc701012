import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { connectRedis, connectRedisClient, type RedisClient } from '@taskq/queue';
import { TEST_REDIS_URL_ENV } from '@taskq/redis-harness';

// The run's Redis is one redis-server (`redis://…`) or, with TASKQ_TEST_TOPOLOGY=cluster,
// a Redis Cluster of 3 masters (`redis+cluster://…`). Tests reach it through these helpers
// (clients, key scans, CLIENT LIST, subscriptions), which work the same on either.

/** URL of the Redis the jest global setup started for this run: `redis://…` or `redis+cluster://…`. */
export function testRedisUrl(): string {
  const url = process.env[TEST_REDIS_URL_ENV];
  if (!url) {
    throw new Error(`${TEST_REDIS_URL_ENV} is not set: run these tests through tools/integration/jest.config.cjs (its globalSetup starts redis-server)`);
  }
  return url;
}

/** A queue name no other test uses, e.g. `it-kill-3f9a0c1d`. */
export function newQueueName(label: string): string {
  return `it-${label}-${randomBytes(4).toString('hex')}`;
}

const CLUSTER_URL = /^redis\+cluster:\/\/(.+)$/;

/** Whether `client` is an ioredis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** The seed nodes of a `redis+cluster://h:p,h:p` URL (the harness's have no credentials), or undefined for a server's URL. */
function clusterSeeds(url: string): { host: string; port: number }[] | undefined {
  const nodes = CLUSTER_URL.exec(url)?.[1];
  return nodes?.split(',').map((node) => {
    const at = node.lastIndexOf(':');
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
}

/**
 * A new client of `url`, not yet connected (it connects by itself): an ioredis
 * Cluster for a cluster URL, else a Redis; `options` apply to each connection.
 */
export function newClient(url: string, options: RedisOptions = {}): RedisClient {
  const seeds = clusterSeeds(url);
  if (seeds === undefined) return new Redis(url, options);
  const { maxRetriesPerRequest, ...redisOptions } = options;
  const clusterOptions: ClusterOptions = { redisOptions, ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}) };
  return new Cluster(seeds, clusterOptions);
}

/**
 * A new connection to what `client` connects to, named `name`, made as the
 * client's class makes duplicates (whatever an instance's own `duplicate` was
 * replaced with), with the arguments taskq passed (on a Cluster those may ask
 * for sharded subscribers).
 */
export function duplicateNamed(client: RedisClient, name: string, args: readonly unknown[]): RedisClient {
  if (!isCluster(client)) {
    const [override] = args as [Partial<RedisOptions>?];
    return Redis.prototype.duplicate.call(client, { ...override, connectionName: name });
  }
  const [nodes, override] = args as [ConstructorParameters<typeof Cluster>[0]?, ClusterOptions?];
  const redisOptions = { ...client.options.redisOptions, ...override?.redisOptions, connectionName: name };
  return Cluster.prototype.duplicate.call(client, nodes ?? [], { ...override, redisOptions });
}

/** Replaces `client.duplicate` (taskq's way to open subscriber connections) with one that names them `name` and hands each to `track`. */
export function onDuplicate(client: RedisClient, name: string, track: (connection: RedisClient) => void): void {
  (client as { duplicate: (...args: unknown[]) => RedisClient }).duplicate = (...args) => {
    const connection = duplicateNamed(client, name, args);
    track(connection);
    return connection;
  };
}

/** Every node of the run's Redis (a server: itself; a cluster: each master). */
export function masters(redis: RedisClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/** Every key matching `pattern`, on every node (SCAN; KEYS would read one node of a cluster only), sorted. */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const out: string[] = [];
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...found);
    } while (cursor !== '0');
  }
  return [...new Set(out)].sort();
}

/** The CLIENT LIST lines of every node (on a cluster a client has connections to several). */
export async function clientList(redis: RedisClient): Promise<string[]> {
  const lists = await Promise.all(masters(redis).map((node) => node.client('LIST') as Promise<string>));
  return lists.flatMap((list) => list.split('\n').filter((l) => l !== ''));
}

/**
 * The CLIENT LIST lines, on every node, of the connections named `name`, or
 * named so by an ioredis Cluster (`ioredis-cluster(subscriber):<name>`,
 * `ioredis-cluster(ssubscriber):<name>`, as it names its own connections).
 */
export async function connectionsNamed(redis: RedisClient, name: string): Promise<string[]> {
  return (await clientList(redis)).filter((l) => {
    const n = /(?:^| )name=(\S*)/.exec(l)?.[1];
    return n === name || (n?.startsWith('ioredis-cluster(') === true && n.endsWith(`):${name}`));
  });
}

/** The connection to the node that holds `key` (a server's client: itself). */
export async function nodeOf(redis: RedisClient, key: string): Promise<Redis> {
  if (!isCluster(redis)) return redis;
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  const owner = (redis as unknown as { slots: string[][] }).slots[slot]?.[0];
  const node = redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (node === undefined) throw new Error(`no master known for slot ${slot} (key ${key}; owner ${owner})`);
  return node;
}

/** `redis://host:port` of the node that holds `key` (a server: its own URL). */
export async function nodeUrlOf(redis: RedisClient, key: string): Promise<string> {
  const node = await nodeOf(redis, key);
  return `redis://${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/** How many connections subscribe `channel`, plainly or sharded (PUBSUB NUMSUB and SHARDNUMSUB on the node that holds it). */
export async function channelSubscribers(redis: RedisClient, channel: string): Promise<number> {
  const node = await nodeOf(redis, channel);
  const [plain, sharded] = await Promise.all([node.call('PUBSUB', 'NUMSUB', channel), node.call('PUBSUB', 'SHARDNUMSUB', channel)]);
  return Number((plain as unknown[])[1]) + Number((sharded as unknown[])[1]);
}

/** Redis connections a test opens; `close()` in afterEach quits them all. */
export class RedisClients {
  private readonly open: RedisClient[] = [];

  /** A ready connection to `url` (default: the run's Redis; a Cluster client for a cluster URL). */
  async connect(url: string = testRedisUrl(), name = 'taskq-it'): Promise<RedisClient> {
    const redis = await connectRedisClient(url, { connectTimeoutMs: 5000, connectionName: name });
    this.open.push(redis);
    return redis;
  }

  /** A ready connection to one redis-server (a server of the test's own, or the run's when the test needs one server). */
  async connectServer(url: string = testRedisUrl(), name = 'taskq-it'): Promise<Redis> {
    if (clusterSeeds(url) !== undefined) throw new Error(`connectServer: ${url} is a cluster; this test needs one redis-server`);
    const redis = await connectRedis(url, { connectTimeoutMs: 5000, connectionName: name });
    this.open.push(redis);
    return redis;
  }

  /** Registers a connection made elsewhere, so that close() ends it too. */
  adopt<T extends RedisClient>(redis: T): T {
    this.open.push(redis);
    return redis;
  }

  /**
   * A subscriber to `channel` of the run's Redis: on a cluster, a connection to
   * the node that owns the channel's slot, subscribed both ways (SUBSCRIBE and
   * SSUBSCRIBE), so that it hears the channel whether taskq publishes it with
   * PUBLISH or with SPUBLISH. Resolves once subscribed.
   */
  async subscribe(channel: string, onMessage: (message: string) => void, name = 'taskq-it-sub'): Promise<Redis> {
    const url = testRedisUrl();
    const cluster = clusterSeeds(url) !== undefined;
    let nodeUrl = url;
    if (cluster) {
      const probe = await connectRedisClient(url, { connectTimeoutMs: 5000 });
      try {
        nodeUrl = await nodeUrlOf(probe, channel);
      } finally {
        await closeClient(probe);
      }
    }
    const sub = this.adopt(new Redis(nodeUrl, { connectionName: name }));
    sub.on('message', (_channel: string, message: string) => onMessage(message));
    sub.on('smessage', (_channel: string, message: string) => onMessage(message));
    await sub.subscribe(channel);
    if (cluster) await sub.ssubscribe(channel);
    return sub;
  }

  async close(): Promise<void> {
    const all = this.open.splice(0);
    await Promise.all(all.map(closeClient));
  }
}

/**
 * Ends a connection, whatever state it is in. ioredis's disconnect() on a
 * socket that is already closed arms a 2 s timer nothing clears, which holds
 * jest open: call it only when the connection is neither ready nor ended.
 */
export async function closeClient(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // quit() by someone else is under way: its 'end' follows
    }
  }
  const status: string = redis.status; // may have changed while quit() was pending
  if (status !== 'end') redis.disconnect();
}
