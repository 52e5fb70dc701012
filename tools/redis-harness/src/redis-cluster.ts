import { freePort } from './free-port';
import { startRedisServer, type RedisServer } from './redis-server';
import { respCommand } from './resp';

/** Options of `startRedisCluster`. */
export interface RedisClusterOptions {
  /** Masters (each owns an equal range of the 16384 slots). Default 3. */
  readonly masters?: number;
  /** How long to wait for the cluster to be `ok` on every node, ms. Default 20000. */
  readonly readyTimeoutMs?: number;
  /**
   * Give every node the append-only file (`appendfsync always`, as
   * `startRedisServer({ persistence: true })`): a node's `restart()` keeps its
   * data, and its `nodes.conf` (in the same directory) keeps its id and slots.
   * Default false.
   */
  readonly persistence?: boolean;
}

/** A Redis Cluster of child redis-servers on 127.0.0.1, owned by this process. */
export interface RedisCluster {
  /** The masters, in slot order: node i owns slots [i * 16384 / n, (i + 1) * 16384 / n). */
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every node: seeds for ioredis's `new Cluster(seeds)`. */
  readonly seeds: readonly { host: string; port: number }[];
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,…`: every node as a seed. */
  readonly url: string;
  /** The port of the node that owns `key`'s slot. */
  nodeOf(key: string): Promise<number>;
  /** What each node holds: `:<port> <keys> keys, <hash tags> hash tags` (hash tags: the distinct `{…}` in its key names, a queue's or a flow's), one per node. */
  spread(): Promise<string[]>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

/** Counts the distinct hash tags (`{…}`) in the key names of the node it runs on. */
const COUNT_HASH_TAGS = `local seen, n, cursor = {}, 0, '0'
repeat
  local r = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = r[1]
  for _, key in ipairs(r[2]) do
    local tag = string.match(key, '{([^}]+)}')
    if tag and not seen[tag] then seen[tag] = true; n = n + 1 end
  end
until cursor == '0'
return n`;

const SLOTS = 16384;

/**
 * Starts a Redis Cluster on loopback without replicas: `masters` redis-servers
 * (cluster mode, with the AOF if `options.persistence`, each with a cluster bus
 * port of its own picked free), joined with CLUSTER MEET, the slots split with CLUSTER ADDSLOTSRANGE,
 * and resolves once every node reports `cluster_state:ok` and knows every other.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const n = options.masters ?? 3;
  const nodes: RedisServer[] = [];
  const buses: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const bus = await freePort();
      buses.push(bus);
      nodes.push(
        await startRedisServer({
          persistence: options.persistence ?? false,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--cluster-port', String(bus)],
        }),
      );
    }
    // the bus port too: without it MEET assumes the client port + 10000
    for (let i = 1; i < n; i++) await respCommand(nodes[0].port, ['CLUSTER', 'MEET', '127.0.0.1', String(nodes[i].port), String(buses[i])]);
    for (let i = 0; i < n; i++) {
      const from = Math.floor((i * SLOTS) / n);
      const to = Math.floor(((i + 1) * SLOTS) / n) - 1;
      await respCommand(nodes[i].port, ['CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)]);
    }
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    for (;;) {
      const states = await Promise.all(
        nodes.map(async (node) => {
          const info = String(await respCommand(node.port, ['CLUSTER', 'INFO']));
          return /cluster_state:ok/.test(info) && Number(/cluster_known_nodes:(\d+)/.exec(info)?.[1]) === n;
        }),
      );
      if (states.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error(`the cluster of ${n} nodes (ports ${nodes.map((x) => x.port).join(', ')}) was not ok within ${options.readyTimeoutMs ?? 20_000} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw err;
  }
  const seeds = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  return {
    nodes,
    seeds,
    url: `redis+cluster://${seeds.map((s) => `${s.host}:${s.port}`).join(',')}`,
    async nodeOf(key: string): Promise<number> {
      const slot = Number(await respCommand(nodes[0].port, ['CLUSTER', 'KEYSLOT', key]));
      let i = 0;
      while (i < n - 1 && slot >= Math.floor(((i + 1) * SLOTS) / n)) i++;
      return nodes[i].port;
    },
    async spread(): Promise<string[]> {
      return Promise.all(
        nodes.map(async (node) => {
          const [keys, tags] = await Promise.all([respCommand(node.port, ['DBSIZE']), respCommand(node.port, ['EVAL', COUNT_HASH_TAGS, '0'], 10_000)]);
          return `:${node.port} ${keys} keys, ${tags} hash tags`;
        }),
      );
    },
    async stop(): Promise<void> {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
