import type { Redis } from 'ioredis';
import { decodeStatusRecord, type QueueKeys, type StatusRecord } from '@taskq/recorder';
import { waitUntil } from './wait';

/** The recorded status of a task (the truth in the status hash), or undefined when none is. */
export async function recorded(redis: Redis, keys: QueueKeys, taskId: string): Promise<StatusRecord | undefined> {
  const raw = await redis.hget(keys.status, taskId);
  return raw === null ? undefined : decodeStatusRecord(raw);
}

/** The recorded statuses of several tasks, in order (undefined where none is). */
export async function recordedMany(redis: Redis, keys: QueueKeys, taskIds: readonly string[]): Promise<(StatusRecord | undefined)[]> {
  if (taskIds.length === 0) return [];
  const raws = await redis.hmget(keys.status, ...taskIds);
  return raws.map((raw) => (raw === null ? undefined : decodeStatusRecord(raw)));
}

/**
 * Waits until the recorded status of `taskId` matches (a status name or a
 * predicate) and returns that record; the timeout message shows the last one read.
 */
export async function waitForRecorded(
  redis: Redis,
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
