import { decodeQueueEvent, type QueueEvent, type QueueKeys, type RedisClient } from '@taskq/queue';

/**
 * What an event stream reads of a queue's recorded state to start or resume:
 * read-only scripts, each one atomic step on the server, so that only what
 * the stream passes on crosses the network (not every stored record, nor any
 * task's payload).
 */

/** A queue's seq counter, epoch, Redis time and pause key, read at one instant. */
export interface Snapshot {
  /** The seq counter: every record or queue event with a seq up to this one was written before the snapshot. */
  readonly seq: number;
  /** The queue's epoch ('' when it has none). */
  readonly epoch: string;
  /** Redis time of the snapshot, ms. */
  readonly at: number;
  /** The pause event while the queue is paused. */
  readonly paused: QueueEvent | undefined;
}

const SNAPSHOT = `local t = redis.call('TIME')
return { redis.call('GET', KEYS[1]) or '', redis.call('GET', KEYS[2]) or '', t[1], t[2], redis.call('GET', KEYS[3]) or '' }`;

export async function readSnapshot(redis: RedisClient, keys: QueueKeys): Promise<Snapshot> {
  const [seq, epoch, s, us, paused] = (await redis.eval(SNAPSHOT, 3, keys.seq, keys.epoch, keys.paused)) as string[];
  return {
    seq: Number(seq ?? '') || 0,
    epoch: epoch ?? '',
    at: Number(s) * 1000 + Math.floor(Number(us) / 1000),
    paused: paused ? decodeQueueEvent(paused) : undefined,
  };
}

/** The queue's epoch ('' for none). */
export async function readEpoch(redis: RedisClient, keys: QueueKeys): Promise<string> {
  return (await redis.get(keys.epoch)) ?? '';
}
