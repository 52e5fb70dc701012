import { type AttemptRecord, type Queue, type RedisClient, type Task, type TaskProgress } from '@taskq/queue';
import type { StatusRecord, TaskStatus } from '@taskq/recorder';

/** The statuses `taskq task ls --status` lists, each read from the structure that holds it. */
export const LISTABLE_STATUSES = ['Queued', 'Delayed', 'Retrying', 'InProgress', 'Dead', 'Failed', 'Done', 'Cancelled'] as const satisfies readonly TaskStatus[];
export type ListableStatus = (typeof LISTABLE_STATUSES)[number];

/** A task as `task ls` and `dead ls` show it: its stored body and its record, when they are still there. */
export interface TaskRow {
  readonly id: string;
  readonly task: Task | undefined;
  readonly record: StatusRecord | undefined;
}

export interface TaskList {
  readonly tasks: TaskRow[];
  /** Whether the structure holds more of them than were listed (--limit). */
  readonly more: boolean;
}

/** Ready tasks of priority above the default score below this in the prioritized set (score `(9 - priority) * 1e13 + order`). */
const ABOVE_DEFAULT = (9 - 5) * 1e13;
/** Ids read per round trip from a structure that holds several statuses. */
const CHUNK = 500;

/**
 * Up to `limit` tasks of one status, from the structure that holds them:
 * Queued from the prioritized set, the ready list and the parked set, in the
 * order workers take them; Delayed and Retrying from the delayed set, soonest
 * first; InProgress from each registered consumer's processing list; Dead and
 * Failed from their lists and Done and Cancelled from the retention list,
 * newest first.
 */
export async function listTasks(queue: Queue, redis: RedisClient, status: ListableStatus, limit: number): Promise<TaskList> {
  const k = queue.keys;
  let ids: string[];
  let more: boolean;
  switch (status) {
    case 'Queued': {
      const n = limit + 1;
      const high = await redis.zrangebyscore(k.prioritized, '-inf', `(${ABOVE_DEFAULT}`, 'LIMIT', 0, n);
      const plain = high.length < n ? (await redis.lrange(k.ready, -(n - high.length), -1)).reverse() : [];
      const low = high.length + plain.length < n ? await redis.zrangebyscore(k.prioritized, ABOVE_DEFAULT, '+inf', 'LIMIT', 0, n - high.length - plain.length) : [];
      const parked = high.length + plain.length + low.length < n ? await redis.zrange(k.parked, 0, n - high.length - plain.length - low.length - 1) : [];
      ids = [...high, ...plain, ...low, ...parked];
      more = ids.length > limit;
      ids = ids.slice(0, limit);
      break;
    }
    case 'InProgress': {
      ids = [];
      for (const consumer of (await queue.consumers()).keys()) ids.push(...(await queue.processingIds(consumer)));
      more = ids.length > limit;
      ids = ids.slice(0, limit);
      break;
    }
    case 'Dead':
    case 'Failed': {
      ids = await redis.lrange(status === 'Dead' ? k.dead : k.rejected, 0, limit);
      more = ids.length > limit;
      ids = ids.slice(0, limit);
      break;
    }
    default: {
      // Delayed, Retrying (the delayed set); Done, Cancelled (the retention list): filtered by their records
      const rows: TaskRow[] = [];
      more = false;
      for (let start = 0; ; start += CHUNK) {
        const chunk: string[] =
          status === 'Delayed' || status === 'Retrying'
            ? await redis.zrange(k.delayed, start, start + CHUNK - 1)
            : await redis.lrange(k.finished, start, start + CHUNK - 1);
        for (const row of await describeTasks(queue, chunk)) {
          if (row.record?.status !== status) continue;
          if (rows.length === limit) {
            more = true;
            break;
          }
          rows.push(row);
        }
        if (more || chunk.length < CHUNK) return { tasks: rows, more };
      }
    }
  }
  return { tasks: await describeTasks(queue, ids), more };
}

/** The stored bodies and records of these tasks, in the order given. */
export async function describeTasks(queue: Queue, ids: readonly string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const [tasks, records] = await Promise.all([queue.getTasks(ids), queue.statuses(ids)]);
  return ids.map((id) => ({ id, task: tasks.get(id), record: records.get(id) }));
}

/** Everything `taskq task show` tells about a task; undefined when the queue does not know it (never enqueued, or forgotten). */
export interface TaskDetail {
  readonly id: string;
  readonly queue: string;
  readonly task: Task | undefined;
  readonly record: StatusRecord | undefined;
  readonly history: AttemptRecord[];
  /** The running attempt's latest progress report, while it runs. */
  readonly progress: TaskProgress | undefined;
}

export async function taskDetail(queue: Queue, id: string): Promise<TaskDetail | undefined> {
  const [[row], history, progress] = await Promise.all([describeTasks(queue, [id]), queue.history(id), queue.progress(id)]);
  if (row.task === undefined && row.record === undefined) return undefined;
  return { id, queue: queue.name, task: row.task, record: row.record, history, progress };
}
