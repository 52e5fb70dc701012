import { queueKeys } from '@taskq/queue';
import { startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from '@taskq/redis-harness';

/**
 * The run's queues and their weights: every worker serves all three
 * (`--queues chaos-critical:6,…`), and the tasks are spread evenly over them,
 * so the lower queues wait while the higher ones have tasks and every path
 * that takes a task back meets each queue. On a cluster a queue whose slot is
 * on a master another queue has already is renamed `<name>-<n>` (the first n
 * that lands on a master of its own).
 */
export const QUEUES: readonly (readonly [string, number])[] = [
  ['chaos-critical', 6],
  ['chaos-default', 3],
  ['chaos-low', 1],
];

/** The README's minimal ACL rule for taskq (default prefix), and the user --acl-user runs the workers as. */
export const ACL_RULE = ['~taskq:*', '&taskq:*', '+@all', '-@dangerous'];
const ACL_USER = 'taskq-chaos';
const ACL_PASSWORD = 'chaos-pw';

/** The Redis a chaos run uses: a redis-server of its own, or a cluster of 3 masters; each with an fsync-always AOF. */
export interface ChaosRedis {
  /** Whether it is a cluster. */
  readonly cluster: boolean;
  /** For the run's own clients (the default user). */
  readonly url: string;
  /** For the workers (the limited user with --acl-user). */
  readonly workerUrl: string;
  /** The queues and their weights, as the workers serve them. */
  readonly queues: readonly (readonly [string, number])[];
  /** What it is, for the first line: `redis-server redis://… (AOF, appendfsync always)`, or the cluster, its nodes and which queue is on which. */
  readonly description: string;
  /** Restarts the server, or one master (the `pick`-th, modulo their number); resolves with what was restarted. */
  restart(pick: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the run's Redis: a cluster with `cluster`, else a redis-server (with the limited user when `aclUser`). */
export async function startChaosRedis(options: { readonly cluster: boolean; readonly aclUser: boolean }): Promise<ChaosRedis> {
  return options.cluster ? startCluster() : startServer(options.aclUser);
}

async function startServer(aclUser: boolean): Promise<ChaosRedis> {
  // the limited user is a server option, so it is still there after the restart
  const server: RedisServer = await startRedisServer({ persistence: true, args: aclUser ? ['--user', ACL_USER, 'on', `>${ACL_PASSWORD}`, ...ACL_RULE] : [] });
  return {
    cluster: false,
    url: server.url,
    workerUrl: aclUser ? `redis://${ACL_USER}:${ACL_PASSWORD}@127.0.0.1:${server.port}` : server.url,
    queues: QUEUES,
    description: `redis-server ${server.url} (AOF, appendfsync always)`,
    async restart() {
      await server.restart();
      return 'redis-server';
    },
    stop: () => server.stop(),
  };
}

async function startCluster(): Promise<ChaosRedis> {
  const cluster = await startRedisCluster({ persistence: true });
  try {
    const placed = await spreadQueues(cluster);
    const holds = (port: number): string[] => placed.filter((q) => q.port === port).map((q) => q.name);
    return {
      cluster: true,
      url: cluster.url,
      workerUrl: cluster.url,
      queues: placed.map((q) => [q.name, q.weight] as const),
      description:
        `Redis Cluster of ${cluster.nodes.length} masters ${cluster.url} (AOF, appendfsync always each); ` +
        placed.map((q) => `${q.name} on :${q.port}`).join(', '),
      async restart(pick) {
        const node = cluster.nodes[pick % cluster.nodes.length];
        await node.restart();
        const held = holds(node.port);
        return `master :${node.port}${held.length > 0 ? ` (${held.join(', ')})` : ''}`;
      },
      stop: () => cluster.stop(),
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** QUEUES with each name moved, if need be, to a slot on a master no other queue of the run is on. */
async function spreadQueues(cluster: RedisCluster): Promise<{ name: string; weight: number; port: number }[]> {
  const used = new Set<number>();
  const out: { name: string; weight: number; port: number }[] = [];
  for (const [base, weight] of QUEUES) {
    for (let n = 0; ; n++) {
      const name = n === 0 ? base : `${base}-${n}`;
      const port = await cluster.nodeOf(queueKeys(name).ready);
      if (!used.has(port) || used.size >= cluster.nodes.length) {
        used.add(port);
        out.push({ name, weight, port });
        break;
      }
    }
  }
  return out;
}
