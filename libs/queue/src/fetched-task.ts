import type { Task } from './task';
import { decodeTask } from './task';
import { InvalidTaskError } from './errors/invalid-task-error';

/** A task fetched into a consumer's processing list. */
export interface FetchedTask {
  readonly id: string;
  /** 1 on the first execution; each later fetch of the task adds one. */
  readonly attempt: number;
  /** Fencing token of this fetch, `<seq>:<attempt>` (opaque to callers): ack and fail must present it. */
  readonly token: string;
  /** The worker name it was fetched for (recorded in its InProgress status). */
  readonly worker: string;
  /** The decoded task, or the reason it could not be decoded. */
  readonly task: Task | undefined;
  readonly invalid: InvalidTaskError | undefined;
  /** The queue's epoch it was fetched in (see Consumer.epoch): when the consumer's differs, Redis lost the task. */
  readonly epoch?: string;
}

/** What one fetch returned. */
export interface FetchResult {
  /** One flag per ack sent along (see Consumer.exchange): true if acknowledged, false if refused. */
  readonly acks: boolean[];
  readonly tasks: FetchedTask[];
  /** ms until the earliest Delayed/Retrying task is due; undefined if there is none, or while tasks are still ready (not looked up). */
  readonly nextDueInMs: number | undefined;
  /** Tasks still in the ready list after this fetch (0: the fetch emptied it); undefined when no task was asked for, or the queue is paused. */
  readonly readyLeft: number | undefined;
  /** The queue is paused (see Queue.pause): no task was handed out, none will be until it is resumed. */
  readonly paused: boolean;
  /** One answer per claim sent along (a hand-off pool's, see Consumer.exchange): the task's fencing token, `c` (it was cancelled first: recorded Cancelled) or `''` (refused: it is no longer this consumer's). */
  readonly claims?: string[];
  /** An acknowledged task was a flow step: its notice waits in the queue's flow outbox for a mover (see moveFlowNotices). */
  readonly flowNotices?: boolean;
}

/**
 * Decodes the reply of fetch.lua: ms until the next due time, tasks still
 * ready, one flag per ack, then id, encoded task, token per task. The attempt is the token's
 * part after the colon (`<seq>:<attempt>`), so the reply does not carry it twice.
 */
export function decodeFetchReply(reply: unknown[], ackCount: number, workers: readonly string[], epoch?: string, claimCount = 0): FetchResult {
  const tasks: FetchedTask[] = [];
  const due = Number(reply[0]);
  const left = Number(reply[1]);
  // 1 acknowledged, 2 acknowledged and a flow step (its notice is in the flow outbox), 0 refused
  let flowNotices = false;
  const acks = reply.slice(2, 2 + ackCount).map((flag) => {
    const f = Number(flag);
    if (f === 2) flowNotices = true;
    return f >= 1;
  });
  const claims = claimCount > 0 ? reply.slice(2 + ackCount, 2 + ackCount + claimCount).map(String) : undefined;
  for (let i = 2 + ackCount + claimCount, n = 0; i + 2 < reply.length; i += 3, n++) {
    const id = String(reply[i]);
    const raw = reply[i + 1];
    const token = String(reply[i + 2]);
    const attempt = Number(token.slice(token.indexOf(':') + 1));
    const worker = workers[n] ?? workers[workers.length - 1] ?? '';
    if (typeof raw !== 'string' || raw === '') {
      tasks.push({ id, attempt, token, worker, task: undefined, invalid: new InvalidTaskError(`task ${id}: no task is stored under this id`), epoch });
      continue;
    }
    try {
      tasks.push({ id, attempt, token, worker, task: decodeTask(id, raw), invalid: undefined, epoch });
    } catch (err) {
      const invalid = err instanceof InvalidTaskError ? err : new InvalidTaskError(`task ${id}: ${String(err)}`, { cause: err });
      tasks.push({ id, attempt, token, worker, task: undefined, invalid, epoch });
    }
  }
  const result: FetchResult = { acks, tasks, nextDueInMs: due >= 0 ? due : undefined, readyLeft: left >= 0 ? left : undefined, paused: left === -2, claims };
  return flowNotices ? { ...result, flowNotices } : result;
}
