import { assertQueueName } from './keys';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis-handle';

// Finding queues by their keys, for tools that serve every queue (the ops
// CLI, the REST API): SCAN, never KEYS. A SCAN covers one server: on a
// Cluster every master is scanned.

/** A glob pattern that matches `text` literally (SCAN MATCH). */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The queue a key of `prefix` belongs to (`taskq:{emails}:ready` -> `emails`), or undefined. */
export function queueOfKey(key: string, prefix: string): string | undefined {
  const head = `${prefix}:{`;
  if (!key.startsWith(head)) return undefined;
  const end = key.indexOf('}:', head.length);
  if (end < 0) return undefined;
  const name = key.slice(head.length, end);
  try {
    assertQueueName(name);
  } catch {
    return undefined;
  }
  return name;
}

/**
 * Every key of a prefix's queues, found with SCAN (never KEYS): the key
 * names `<prefix>:{<queue>}:…`. `queue` restricts it to one queue's keys.
 */
export async function scanQueueKeys(redis: RedisClient, prefix: string, queue?: string): Promise<string[]> {
  const match = queue === undefined ? `${globEscape(prefix)}:{*}:*` : `${globEscape(prefix)}:{${globEscape(queue)}}:*`;
  const found = new Set<string>();
  // a Cluster's keys are spread over its masters: each is scanned (replicas hold copies)
  let servers: Redis[] = [redis as Redis];
  if ((redis as { isCluster?: boolean }).isCluster) {
    const cluster = redis as Cluster;
    // a client that has not connected yet knows no node: a first command waits for its slot map
    if (cluster.nodes('master').length === 0) await cluster.ping();
    servers = cluster.nodes('master');
  }
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) if (queue === undefined || queueOfKey(key, prefix) === queue) found.add(key);
    } while (cursor !== '0');
  }
  return [...found].sort();
}

/** The queues that have any key under `prefix`, sorted by name. */
export async function discoverQueues(redis: RedisClient, prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for (const key of await scanQueueKeys(redis, prefix)) {
    const name = queueOfKey(key, prefix);
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}
