import { decodeQueueEvent, scanChanged, scanUnmoved, type QueueEvent, type QueueKeys, type RedisClient } from '@taskq/queue';
import { decodeStatusRecord, type StatusRecord } from '@taskq/recorder';
import { queueEventLine, recordLine } from './format';

/** What `taskq watch` prints of a queue it found after the queue's first events: its state then, each marked replayed. */
export interface LateQueueState {
  /** The latest record of every task, oldest first (a task still where its enqueue put it: `Queued`, attempt 0, seq 0). */
  readonly records: StatusRecord[];
  /** The pause event, when the queue is paused. */
  readonly paused: QueueEvent | undefined;
}

/**
 * Reads the recorded state of a queue that `taskq watch` (every queue, on a
 * Redis Cluster) found only after tasks had moved in it: sharded pub/sub has
 * no pattern, so the queue's channel was subscribed a little late and what it
 * published before is only in the records. Read after the subscription is
 * confirmed, so every record is either here or delivered live.
 */
export async function readLateQueue(redis: RedisClient, keys: QueueKeys): Promise<LateQueueState> {
  const records: StatusRecord[] = [];
  await scanChanged(redis, keys, 0, (raw) => records.push(decodeStatusRecord(raw)));
  await scanUnmoved(redis, keys, 0, (id, at) => records.push({ id, status: 'Queued', attempt: 0, at, seq: 0 }));
  records.sort((a, b) => a.at - b.at || a.seq - b.seq);
  const pause = await redis.get(keys.paused);
  return { records, paused: pause ? decodeQueueEvent(pause) : undefined };
}

/** What watch prints of a queue it found late: each line marked `(replayed)`, each JSON object `"replayed": true`. */
export function lateQueueLines(queue: string, state: LateQueueState, asJson: boolean): string[] {
  const lines = state.records.map((r) => (asJson ? JSON.stringify({ queue, ...r, replayed: true }) : `${recordLine(queue, r)} (replayed)`));
  if (state.paused) lines.push(asJson ? JSON.stringify({ queue, ...state.paused, replayed: true }) : `${queueEventLine(queue, state.paused)} (replayed)`);
  return lines;
}

/**
 * The live records of late queues that the replay already showed: per task,
 * the seq of the replayed record (0 when it was replayed as `Queued` from its
 * body, which stands for the enqueue's record). A live record at or below it
 * is stale. A task's entry goes with its first record that is not: messages
 * of a channel arrive in the order they were published, so nothing stale of
 * the task can follow.
 */
export class ReplayedTasks {
  private readonly seqs = new Map<string, Map<string, number>>();

  /** Notes what the replay of `queue` showed. */
  add(queue: string, records: readonly StatusRecord[]): void {
    if (records.length === 0) return;
    const seqs = new Map<string, number>();
    for (const r of records) seqs.set(r.id, r.seq);
    this.seqs.set(queue, seqs);
  }

  /** Whether a live record of `queue` is one the replay showed already (then it is not printed). */
  stale(queue: string, r: StatusRecord): boolean {
    const seqs = this.seqs.get(queue);
    const shown = seqs?.get(r.id);
    if (seqs === undefined || shown === undefined) return false;
    const isStale = shown === 0 ? r.status === 'Queued' : r.seq <= shown;
    if (!isStale || shown === 0) seqs.delete(r.id);
    if (seqs.size === 0) this.seqs.delete(queue);
    return isStale;
  }

  /** Tasks still noted (for tests). */
  get size(): number {
    let n = 0;
    for (const s of this.seqs.values()) n += s.size;
    return n;
  }
}
