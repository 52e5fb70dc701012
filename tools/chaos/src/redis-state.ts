import type { Cluster, Redis } from 'ioredis';
import { decodeStatusRecord, queuedRecordOf, type StatusRecord } from '@taskq/recorder';
import { type QueueKeys, type RedisClient } from '@taskq/queue';

/** What Redis holds for the run's queue once the workers have stopped. */
export interface RedisState {
  /** Recorded status per task id; undefined: no record, or one that does not decode. */
  readonly recorded: ReadonlyMap<string, StatusRecord | undefined>;
  /** Task ids still in a processing list, the ready list, the prioritized set or the delayed set, with where. */
  readonly stuck: ReadonlyMap<string, string>;
}

const CHUNK = 1000;

/**
 * The recorded status of each of `ids` (one HMGET of the status hash, one of
 * the tasks hash): a task without a stored record but with a body is still
 * where its enqueue put it, Queued. Undefined: neither, or a record that does
 * not decode.
 */
export async function readRecords(redis: RedisClient, keys: QueueKeys, ids: readonly string[]): Promise<Map<string, StatusRecord | undefined>> {
  const out = new Map<string, StatusRecord | undefined>();
  const [raws, bodies] = await Promise.all([redis.hmget(keys.status, ...ids), redis.hmget(keys.tasks, ...ids)]);
  ids.forEach((id, j) => {
    const raw = raws[j];
    const body = bodies[j];
    let record: StatusRecord | undefined;
    try {
      // no stored record: a task still where enqueue put it, read from its body
      record = typeof raw === 'string' ? decodeStatusRecord(raw) : typeof body === 'string' ? queuedRecordOf(id, body) : undefined;
    } catch {
      record = undefined;
    }
    out.set(id, record);
  });
  return out;
}

/** Reads the recorded status of `ids` (HMGET in chunks) and every id left in a queue structure. */
export async function readRedisState(redis: RedisClient, keys: QueueKeys, ids: readonly string[]): Promise<RedisState> {
  const recorded = new Map<string, StatusRecord | undefined>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    for (const [id, record] of await readRecords(redis, keys, chunk)) recorded.set(id, record);
  }

  const stuck = new Map<string, string>();
  const note = (found: readonly string[], where: string): void => {
    for (const id of found) if (!stuck.has(id)) stuck.set(id, where);
  };
  for (const list of await processingLists(redis, keys)) note(await redis.lrange(list, 0, -1), list);
  note(await redis.lrange(keys.ready, 0, -1), keys.ready);
  note(await redis.zrange(keys.prioritized, 0, -1), keys.prioritized);
  note(await redis.zrange(keys.delayed, 0, -1), keys.delayed);
  return { recorded, stuck };
}

/** Every processing list of the queue that exists (SCAN of every master of a cluster; Redis deletes a list when it empties). */
async function processingLists(redis: RedisClient, keys: QueueKeys): Promise<string[]> {
  const out = new Set<string>();
  const nodes: Redis[] = (redis as { isCluster?: boolean }).isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', keys.processing('*'), 'COUNT', 1000);
      cursor = next;
      for (const key of found) out.add(key);
    } while (cursor !== '0');
  }
  return [...out];
}
