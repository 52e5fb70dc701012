import { createHash } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import type { RecordKeys } from './record-keys';
import { decodeStatusRecord, queuedRecordOf, type StatusRecord } from './status-record';

/**
 * The records and bodies of tasks in one atomic read. A read-only script, not
 * MULTI/EXEC: at maxmemory Redis refuses every command queued in a MULTI (the
 * transaction is discarded with EXECABORT), while a script that only reads runs.
 */
const READ_RECORDS_AND_BODIES = `local u = unpack or table.unpack
return { redis.call('HMGET', KEYS[1], u(ARGV)), redis.call('HMGET', KEYS[2], u(ARGV)) }`;
const READ_RECORDS_AND_BODIES_SHA = createHash('sha1').update(READ_RECORDS_AND_BODIES).digest('hex');
/** Ids per script call: unpack() must stay well inside the Lua stack (8000 values). */
const READ_BATCH = 4000;

async function readRecordsAndBodies(redis: Redis | Cluster, keys: RecordKeys, ids: readonly string[]): Promise<[(string | null)[], (string | null)[]]> {
  const records: (string | null)[] = [];
  const bodies: (string | null)[] = [];
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const args = [keys.status, keys.tasks, ...ids.slice(i, i + READ_BATCH)];
    let reply: unknown;
    try {
      reply = await redis.evalsha(READ_RECORDS_AND_BODIES_SHA, 2, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await redis.eval(READ_RECORDS_AND_BODIES, 2, ...args);
    }
    const [r, b] = reply as [(string | null)[], (string | null)[]];
    // a Lua table ends at its first nil: Redis gives the missing ones at the end as nils
    for (let j = 0; j < args.length - 2; j++) {
      records.push(r[j] ?? null);
      bodies.push(b[j] ?? null);
    }
  }
  return [records, bodies];
}

/**
 * Reads the recorded status of tasks. The records are written by the queue's
 * Lua scripts (see `RECORD_LUA`), never from here, so a read always reflects
 * a completed transition.
 */
export class StatusRecorder {
  /**
   * @param redis a client for ordinary commands (never put in subscriber mode)
   * @param keys the queue's record keys (`queueKeys(name)` of @taskq/queue has them)
   */
  constructor(
    private readonly redis: Redis | Cluster,
    readonly keys: RecordKeys,
  ) {}

  /** The pub/sub channel on which every status change of this queue is published. */
  get channel(): string {
    return this.keys.events;
  }

  /**
   * The current status record of `taskId`, or undefined for an unknown (or
   * forgotten) task. An enqueued task that has not moved yet has no stored
   * record: its body stands for it (Queued, attempt 0, seq 0).
   */
  async get(taskId: string): Promise<StatusRecord | undefined> {
    return (await this.getMany([taskId])).get(taskId);
  }

  /** Current records of many tasks (see get()); a missing one is undefined. One round trip, two when some have no stored record. */
  async getMany(taskIds: readonly string[]): Promise<Map<string, StatusRecord | undefined>> {
    const out = new Map<string, StatusRecord | undefined>();
    if (taskIds.length === 0) return out;
    const raws = await this.redis.hmget(this.keys.status, ...taskIds);
    const missing: string[] = [];
    taskIds.forEach((id, i) => {
      const raw = raws[i];
      if (typeof raw === 'string') out.set(id, decodeStatusRecord(raw));
      else missing.push(id);
    });
    if (missing.length > 0) {
      // read again together with the bodies, atomically: the task may have moved since
      const [records, bodies] = await readRecordsAndBodies(this.redis, this.keys, missing);
      missing.forEach((id, i) => {
        const raw = records[i];
        const body = bodies[i];
        if (typeof raw === 'string') out.set(id, decodeStatusRecord(raw));
        else out.set(id, typeof body === 'string' ? queuedRecordOf(id, body) : undefined);
      });
    }
    // in the order asked
    return new Map(taskIds.map((id) => [id, out.get(id)]));
  }

  /** How many tasks are in each status (scans every task; for tools and tests). */
  async countByStatus(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    let cursor = '0';
    do {
      const [next, entries] = await this.redis.hscan(this.keys.tasks, cursor, 'COUNT', 1000);
      cursor = next;
      const ids: string[] = [];
      for (let i = 0; i < entries.length; i += 2) ids.push(entries[i]);
      for (const record of (await this.getMany(ids)).values()) {
        if (record) counts[record.status] = (counts[record.status] ?? 0) + 1;
      }
    } while (cursor !== '0');
    return counts;
  }
}
