import type { Redis } from 'ioredis';
import { RECORD_LUA, type StatusRecord, type TaskStatus, decodeStatusRecord } from '@taskq/recorder';
import type { QueueKeys } from '@taskq/queue';

/** The recorder's own Lua, called the way queue scripts call it. */
const RECORD_SCRIPT = `${RECORD_LUA}
local rec = taskq_record(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), taskq_now(), ARGV[5], ARGV[6])
taskq_flush()
return rec
`;

export interface RecordInput {
  readonly id: string;
  readonly status: TaskStatus;
  readonly attempt?: number;
  readonly worker?: string;
  readonly reason?: string;
}

/** Writes and publishes a status record exactly as the queue's scripts do; returns it. */
export async function recordStatus(redis: Redis, keys: QueueKeys, input: RecordInput): Promise<StatusRecord> {
  const raw = (await redis.eval(
    RECORD_SCRIPT,
    2,
    keys.status,
    keys.seq,
    keys.events,
    input.id,
    input.status,
    String(input.attempt ?? 0),
    input.worker ?? '',
    input.reason ?? '',
  )) as string;
  return decodeStatusRecord(raw);
}

/**
 * Records a status whose publish was lost: the hash and the sequence counter
 * move on as in a real transition, but no subscriber hears about it.
 */
export async function recordSilently(redis: Redis, keys: QueueKeys, input: RecordInput): Promise<StatusRecord> {
  const seq = await redis.incr(keys.seq);
  const record: StatusRecord = {
    id: input.id,
    status: input.status,
    attempt: input.attempt ?? 0,
    at: Date.now(),
    seq,
    ...(input.worker === undefined ? {} : { worker: input.worker }),
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  };
  await redis.hset(keys.status, input.id, JSON.stringify(record));
  return record;
}
