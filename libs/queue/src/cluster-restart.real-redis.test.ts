import { startRedisCluster, type RedisCluster } from '@taskq/redis-harness';
import { connectRedisClient } from './connect';
import type { RedisClient } from './redis-handle';

// A master of a Redis Cluster restarting (no replica to fail over to): its
// slots answer CLUSTERDOWN for 2 s after it is back (Redis's writable delay
// for a rebooted master), and the other nodes redirect to it meanwhile. A
// command for those slots waits it out instead of failing.

let cluster: RedisCluster;
let client: RedisClient | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster({ persistence: true });
}, 30_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describe('a cluster client while a master restarts', () => {
  it("runs a command on that master's slots once it is writable again (back, plus 2 s), where ioredis's defaults gave up after about 1.6 s", async () => {
    client = await connectRedisClient(cluster.url, { connectTimeoutMs: 5000 });
    const key = 'restart-probe-{a}';
    const port = await cluster.nodeOf(key);
    const node = cluster.nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no node on port ${port}`);
    await client.set(key, 'before');
    await node.kill(); // down (its AOF kept) before the command is sent
    const sentAt = Date.now();
    const restarting = node.restart();
    await expect(client.set(key, 'after')).resolves.toBe('OK');
    const tookMs = Date.now() - sentAt;
    await restarting;
    expect(await client.get(key)).toBe('after');
    expect(tookMs).toBeGreaterThan(1600); // longer than ioredis's defaults would have waited
  }, 30_000);
});
