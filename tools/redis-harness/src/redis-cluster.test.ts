import { Cluster } from 'ioredis';
import { startRedisCluster, type RedisCluster } from './redis-cluster';
import { respCommand } from './resp';

let cluster: RedisCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
});

describe('startRedisCluster', () => {
  it('starts 3 masters on loopback that share the 16384 slots; an ioredis Cluster client reads and writes keys on every node', async () => {
    cluster = await startRedisCluster();
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url).toBe(`redis+cluster://${cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`);
    for (const node of cluster.nodes) {
      expect(String(await respCommand(node.port, ['CLUSTER', 'INFO']))).toMatch(/cluster_state:ok[\s\S]*cluster_slots_assigned:16384[\s\S]*cluster_known_nodes:3/);
    }
    const client = new Cluster([...cluster.seeds]);
    try {
      const keys = ['{a}k', '{b}k', '{c}k', '{d}k', '{e}k'];
      for (const key of keys) await client.set(key, key);
      const owners = new Set(await Promise.all(keys.map((k) => cluster!.nodeOf(k))));
      expect(owners.size).toBeGreaterThan(1);
      for (const key of keys) {
        const owner = await cluster.nodeOf(key);
        // the owner answers for it; another node redirects
        expect(await respCommand(owner, ['GET', key])).toBe(key);
        const other = cluster.nodes.find((n) => n.port !== owner)!.port;
        await expect(respCommand(other, ['GET', key])).rejects.toThrow(/^MOVED \d+ 127\.0\.0\.1:\d+$/);
      }
      // what each node holds: its keys and the distinct hash tags among them
      await client.set('{a}other', 'x');
      const spread = await cluster.spread();
      expect(spread).toHaveLength(3);
      const counts = spread.map((line) => /^:(\d+) (\d+) keys, (\d+) hash tags$/.exec(line)?.slice(1).map(Number) ?? []);
      expect(counts.map(([port]) => port)).toEqual(cluster.nodes.map((n) => n.port));
      expect(counts.reduce((sum, [, keys]) => sum + keys, 0)).toBe(6);
      expect(counts.reduce((sum, [, , tags]) => sum + tags, 0)).toBe(5);
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
