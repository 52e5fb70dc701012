import type { Redis, Cluster } from 'ioredis';
import { inject, injectable } from 'tsyringe';
import { keysOf, type QueueConfig } from './config';
import type { QueueKeys } from './keys';
import { decodeStatusRecord, type StatusRecord } from './status-record';
import { TOKENS } from './tokens';

/**
 * Reads the recorded status of tasks. The records are written by the queue's
 * Lua scripts (see `RECORD_LUA`), never from here, so a read always reflects
 * a completed transition.
 */
@injectable()
export class StatusRecorder {
  readonly keys: QueueKeys;

  constructor(
    @inject(TOKENS.Redis) private readonly redis: Redis | Cluster,
    @inject(TOKENS.QueueConfig) config: QueueConfig,
  ) {
    this.keys = keysOf(config);
  }

  /** The pub/sub channel on which every status change of this queue is published. */
  get channel(): string {
    return this.keys.events;
  }

  /** The current status record of `taskId`, or undefined if none is recorded. */
  async get(taskId: string): Promise<StatusRecord | undefined> {
    const raw = await this.redis.hget(this.keys.status, taskId);
    return raw === null ? undefined : decodeStatusRecord(raw);
  }

  /** Current records of many tasks in one round trip; a missing one is undefined. */
  async getMany(taskIds: readonly string[]): Promise<Map<string, StatusRecord | undefined>> {
    const out = new Map<string, StatusRecord | undefined>();
    if (taskIds.length === 0) return out;
    const raws = await this.redis.hmget(this.keys.status, ...taskIds);
    taskIds.forEach((id, i) => {
      const raw = raws[i];
      out.set(id, raw === null || raw === undefined ? undefined : decodeStatusRecord(raw));
    });
    return out;
  }

  /** How many tasks are recorded in each status (scans the whole record; for tools and tests). */
  async countByStatus(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    let cursor = '0';
    do {
      const [next, entries] = await this.redis.hscan(this.keys.status, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < entries.length; i += 2) {
        const status = decodeStatusRecord(entries[i] as string).status;
        counts[status] = (counts[status] ?? 0) + 1;
      }
    } while (cursor !== '0');
    return counts;
  }
}
