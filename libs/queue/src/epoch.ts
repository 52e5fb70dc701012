import type { QueueKeys } from './keys';
import type { RedisClient } from './redis-handle';

/**
 * What Redis says of a queue's data generation: its epoch (see
 * QueueKeys.epoch; undefined when it has none) and its seq counter.
 */
export interface Generation {
  readonly epoch: string | undefined;
  readonly seq: number;
}

/** How a client found that Redis lost a queue's data. */
export interface DataLoss {
  readonly queue: string;
  /** The epoch the client knew. */
  readonly before: string;
  /** The epoch Redis has now (undefined: none; the same as `before` when only the seq counter went back). */
  readonly after: string | undefined;
  /** One sentence: what changed and what it means. */
  readonly reason: string;
}

/** Reads a queue's epoch and seq counter (one MGET; both keys share the queue's hash tag). */
export async function readGeneration(redis: RedisClient, keys: QueueKeys): Promise<Generation> {
  const [epoch, seq] = await redis.mget(keys.epoch, keys.seq);
  return { epoch: epoch ?? undefined, seq: Number(seq ?? 0) };
}

/** `1733280000123456` (µs) → `2026-12-04T02:40:00.123Z`; anything else as it is. */
export function epochTime(epoch: string): string {
  if (!/^\d{13,19}$/.test(epoch)) return epoch;
  return new Date(Math.floor(Number(epoch) / 1000)).toISOString();
}

const CAUSES = 'the server restarted without persistence, was flushed, or failed over to a replica that did not have the data';

/**
 * Follows one queue's generation as a client sees it: the epoch it first saw
 * and the highest seq it saw under it. `check` compares that with what Redis
 * says now, and reports a loss once (then follows the new generation).
 */
export class EpochWatch {
  private epoch: string | undefined;
  private maxSeq = 0;

  constructor(private readonly queue: string) {}

  /** The epoch this client follows (undefined until it saw one). */
  get current(): string | undefined {
    return this.epoch;
  }

  /** Notes an epoch Redis gave (an enqueue's or a heartbeat's reply); returns the loss when it differs from the one followed. */
  see(epoch: string | undefined): DataLoss | undefined {
    return this.check({ epoch, seq: this.maxSeq });
  }

  /** Notes a seq seen in a record of the followed generation. */
  seeSeq(seq: number): void {
    if (seq > this.maxSeq) this.maxSeq = seq;
  }

  /** The highest seq seen of the followed generation (for `check`'s `seenBefore`). */
  get seen(): number {
    return this.maxSeq;
  }

  /**
   * Compares what Redis says now with what was seen: a different epoch, or
   * none where there was one, or the same epoch with the seq counter below a
   * seq seen (Redis restarted from an older snapshot) is a loss.
   * `seenBefore`: `seen` as it was when `now` was asked for. A record that
   * arrived while the read was on its way may carry a seq above the counter
   * the read returned without anything being lost (its script ran after the
   * read), so only seqs seen before the read count; default: all seen.
   */
  check(now: Generation, seenBefore?: number): DataLoss | undefined {
    const before = this.epoch;
    if (before === undefined) {
      // the first epoch seen: seqs seen before it may be of an earlier generation
      this.epoch = now.epoch;
      if (now.epoch !== undefined) this.maxSeq = now.seq;
      return undefined;
    }
    if (now.epoch === before) {
      const seen = seenBefore ?? this.maxSeq;
      if (now.seq >= seen) {
        if (now.seq > this.maxSeq) this.maxSeq = now.seq;
        return undefined;
      }
      this.maxSeq = now.seq;
      return {
        queue: this.queue,
        before,
        after: before,
        reason: `Redis lost queue ${this.queue}'s latest data: its seq counter is at ${now.seq}, below ${seen} seen before (the server restarted from an older snapshot, or failed over to a replica that was behind)`,
      };
    }
    this.epoch = now.epoch;
    this.maxSeq = now.seq;
    const was = `its data since ${epochTime(before)} (epoch ${before})`;
    const is = now.epoch === undefined ? 'is gone' : `is gone; Redis has the queue's data since ${epochTime(now.epoch)} (epoch ${now.epoch})`;
    return { queue: this.queue, before, after: now.epoch, reason: `Redis lost queue ${this.queue}'s data: ${was} ${is} — ${CAUSES}` };
  }
}
