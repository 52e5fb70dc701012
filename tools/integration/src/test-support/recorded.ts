import { StatusRecorder, type StatusRecord } from '@taskq/recorder';
import { type QueueKeys, type RedisClient } from '@taskq/queue';
import { waitUntil } from './wait';

/**
 * The recorded status of a task (the status hash, or for a task still where
 * enqueue put it the stand-in its body gives), or undefined when none is.
 */
export async function recorded(redis: RedisClient, keys: QueueKeys, taskId: string): Promise<StatusRecord | undefined> {
  return new StatusRecorder(redis, keys).get(taskId);
}

/** The recorded statuses of several tasks, in order (undefined where none is). */
export async function recordedMany(redis: RedisClient, keys: QueueKeys, taskIds: readonly string[]): Promise<(StatusRecord | undefined)[]> {
  if (taskIds.length === 0) return [];
  const records = await new StatusRecorder(redis, keys).getMany(taskIds);
  return taskIds.map((id) => records.get(id));
}

/**
 * Waits until the recorded status of `taskId` matches (a status name or a
 * predicate) and returns that record; the timeout message shows the last one read.
 */
export async function waitForRecorded(
  redis: RedisClient,
  keys: QueueKeys,
  taskId: string,
  match: string | ((record: StatusRecord) => boolean),
  timeoutMs: number,
  details: () => string = () => '',
): Promise<StatusRecord> {
  const test = typeof match === 'string' ? (r: StatusRecord) => r.status === match : match;
  let last: StatusRecord | undefined;
  return waitUntil(
    async () => {
      last = await recorded(redis, keys, taskId);
      return last !== undefined && test(last) ? last : undefined;
    },
    {
      timeoutMs,
      what: `the recorded status of ${taskId} to be ${typeof match === 'string' ? match : 'as expected'}`,
      details: () => `last recorded: ${JSON.stringify(last)}\n${details()}`,
    },
  );
}
