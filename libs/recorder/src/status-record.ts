import { InvalidStatusRecordError } from './errors/invalid-status-record-error';
import { isTaskStatus, type TaskStatus } from './status';

/** A task's current status as recorded in Redis and published on the events channel. */
export interface StatusRecord {
  /** Task id. */
  readonly id: string;
  readonly status: TaskStatus;
  /** How many times the task has been fetched for execution (0 while first queued). */
  readonly attempt: number;
  /** Redis server time of the transition, ms since the epoch. */
  readonly at: number;
  /** Per-queue sequence number of the transition; later transitions have larger numbers. */
  readonly seq: number;
  /** Worker (sub-worker) that made or holds the task, when there is one. */
  readonly worker?: string;
  /** Why the task got this status (failure reason, recovery note), when there is one. */
  readonly reason?: string;
  /** For Delayed and Retrying: when the task is due to run again (Redis server time, ms). */
  readonly runAt?: number;
}

/** Parses a status record as written by `lua/record.lua`. Throws InvalidStatusRecordError. */
export function decodeStatusRecord(raw: string): StatusRecord {
  return toStatusRecord(parse(raw), raw);
}

/**
 * Parses a message of a queue's events channel: a JSON array of the status
 * records one script wrote, in `seq` order (a batch fetch publishes all its
 * transitions as one message). Throws InvalidStatusRecordError.
 */
export function decodeStatusMessage(raw: string): StatusRecord[] {
  const value = parse(raw);
  if (!Array.isArray(value)) throw new InvalidStatusRecordError(raw);
  return value.map((item) => toStatusRecord(item, raw));
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new InvalidStatusRecordError(raw, { cause });
  }
}

function toStatusRecord(value: unknown, raw: string): StatusRecord {
  if (typeof value !== 'object' || value === null) throw new InvalidStatusRecordError(raw);
  const v = value as Record<string, unknown>;
  if (
    typeof v['id'] !== 'string' ||
    !isTaskStatus(v['status']) ||
    typeof v['attempt'] !== 'number' ||
    typeof v['at'] !== 'number' ||
    typeof v['seq'] !== 'number'
  ) {
    throw new InvalidStatusRecordError(raw);
  }
  return {
    id: v['id'],
    status: v['status'],
    attempt: v['attempt'],
    at: v['at'],
    seq: v['seq'],
    ...(typeof v['worker'] === 'string' ? { worker: v['worker'] } : {}),
    ...(typeof v['reason'] === 'string' ? { reason: v['reason'] } : {}),
    ...(typeof v['runAt'] === 'number' ? { runAt: v['runAt'] } : {}),
  };
}

/**
 * The record an enqueued task's stored body stands for (see RecordKeys.tasks):
 * status Queued, attempt 0, seq 0 (older than any stored record), at = the
 * enqueue time the body begins with. Undefined for a body of another shape.
 */
export function queuedRecordOf(id: string, body: string): StatusRecord | undefined {
  const m = /^\[(\d+),/.exec(body);
  return m ? { id, status: 'Queued', attempt: 0, at: Number(m[1]), seq: 0 } : undefined;
}
