import { type AttemptRecord, type JsonValue, type Queue, type Task, type TaskProgress } from '@taskq/queue';
import type { StatusRecord } from '@taskq/recorder';

/** A task as `task show` reads it: its stored body and its record, when they are still there. */
export interface ShownTask {
  readonly id: string;
  readonly task: Task | undefined;
  readonly record: StatusRecord | undefined;
}

/** The stored bodies and records of these tasks, in the order given. */
export async function describeTasks(queue: Queue, ids: readonly string[]): Promise<ShownTask[]> {
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
  /** The value its handler returned (stored with Done); undefined when none is stored. */
  readonly result: JsonValue | undefined;
}

export async function taskDetail(queue: Queue, id: string): Promise<TaskDetail | undefined> {
  const [[row], history, progress, result] = await Promise.all([describeTasks(queue, [id]), queue.history(id), queue.progress(id), queue.result(id)]);
  if (row.task === undefined && row.record === undefined) return undefined;
  return { id, queue: queue.name, task: row.task, record: row.record, history, progress, result };
}
