import type { Redis } from 'ioredis';
import { onChannelMessage, onShardResubscribe, subscribeChannels, subscriberBarrier } from '@taskq/queue';
import type { Logger } from '@taskq/recorder';

/** A queue's channels (QueueKeys.wake and QueueKeys.control), and the pool's consumer id there. */
export interface QueueChannels {
  readonly wake: string;
  readonly control: string;
  /** A wake message that names consumers wakes this pool only when it names this one (an enqueue of an earlier version). */
  readonly consumerId?: string;
  /** The consumer's own wake channel (QueueKeys.wakeOf): an enqueue that popped it from the waiters list wakes it there. */
  readonly ownWake?: string;
}

/** What one queue's wake messages said so far (see WakeSignal.counts). */
export interface WakeCounts {
  /**
   * How many times the queue said there may be new work (a wake message, or
   * a reconnect after which one may have been missed). A pool whose fetch
   * emptied the ready list fetches again once this changes (or when a
   * delayed task is due, or after the poll interval).
   */
  readonly wakes: number;
  /**
   * The tasks wake messages said became ready, summed over all of them (a
   * message is the count: enqueue, release, recover, reconcile and
   * requeue-dead publish how many; 0 when only a due time changed). A pool
   * whose queue ran dry asks for that many tasks on its next fetch, not for
   * one per idle sub-worker.
   */
  readonly announced: number;
  /** Wakes that said no count (a reconnect, or a message that is not a count): a pool then asks for its full share. */
  readonly unknowns: number;
}

/**
 * The pool's subscriber connection: one for all the queues a pool serves.
 * A queue's wake channel wakes an idle pool when tasks are enqueued,
 * released, recovered or scheduled (those scripts publish on it); its
 * control channel carries cancel requests. Pub/sub may drop a message (e.g.
 * during a reconnect), so every wait is also bounded, and the heartbeat
 * re-reports cancel requests.
 */
export class WakeSignal {
  private pending = false;
  private waiter: (() => void) | undefined;
  private readonly counts: { wakes: number; announced: number; unknowns: number }[];
  /** Channel -> [queue index, is the control channel]. */
  private readonly byChannel = new Map<string, [number, boolean]>();
  /** Per queue: this pool's consumer id (undefined: every wake message is for it). */
  private readonly consumerIds: (string | undefined)[];
  /** Wake messages that named other consumers, per queue (not counted as wakes). */
  private readonly skipped: number[];

  constructor(
    private readonly subscriber: Redis,
    queues: readonly QueueChannels[],
    /** A control message (a task id to cancel) on queue `index`'s channel. */
    private readonly onControl: (message: string, index: number) => void,
    private readonly logger: Logger,
    /** Called when the connection is (re)established: replies to commands in flight may have been lost. */
    private readonly onReady: () => void = () => undefined,
    /**
     * A task handed off to this pool on queue `index` (`h <id> <body>` on its
     * own wake channel, see enqueue.lua): undefined, and such a message is
     * counted as a wake of unknown count (the pool fetches).
     */
    private readonly onHandOff?: (index: number, id: string, body: string) => void,
  ) {
    this.counts = queues.map(() => ({ wakes: 0, announced: 0, unknowns: 0 }));
    this.consumerIds = queues.map((q) => q.consumerId);
    this.skipped = queues.map(() => 0);
    queues.forEach((q, i) => {
      this.byChannel.set(q.wake, [i, false]);
      if (q.ownWake !== undefined) this.byChannel.set(q.ownWake, [i, false]);
      this.byChannel.set(q.control, [i, true]);
    });
  }

  async start(): Promise<void> {
    // plain channels on a server, shard channels (SSUBSCRIBE, 'smessage') on a Cluster
    onChannelMessage(this.subscriber, (channel: string, message: string) => {
      const found = this.byChannel.get(channel);
      if (found === undefined) return;
      const [index, control] = found;
      // String(): the in-memory Redis of the demo passes a published number through as a number
      const text = String(message);
      if (control) this.onControl(text, index);
      else if (this.onHandOff && text.startsWith('h ')) {
        const space = text.indexOf(' ', 2);
        if (space > 2) this.onHandOff(index, text.slice(2, space), text.slice(space + 1));
        else this.wake(index, undefined);
      } else this.wake(index, text);
    });
    // after a reconnect a message may have been missed: look at every queue
    this.subscriber.on('ready', () => {
      this.onReady();
      for (let i = 0; i < this.counts.length; i++) this.wake(i, undefined);
    });
    // on a Cluster, after a resharding or failover moved a queue's slot: subscribed again on its new node
    onShardResubscribe(this.subscriber, () => {
      for (let i = 0; i < this.counts.length; i++) this.wake(i, undefined);
    });
    await subscribeChannels(this.subscriber, [...this.byChannel.keys()]);
  }

  /** What queue `index`'s wake messages said so far. */
  countsOf(index: number): WakeCounts {
    const c = this.counts[index];
    return { wakes: c.wakes, announced: c.announced, unknowns: c.unknowns };
  }

  /** How many wakes queue `index` had (see WakeCounts.wakes). */
  wakesOf(index: number): number {
    return this.counts[index].wakes;
  }

  /** Wake messages of queue `index` that named other consumers only, so this pool did not fetch. */
  skippedOf(index: number): number {
    return this.skipped[index] ?? 0;
  }

  private wake(index: number, message: string | undefined): void {
    const c = this.counts[index];
    let count = message;
    // '<count> <consumer> ...' on the queue's channel: an enqueue of an earlier version woke the consumers it names
    const named = message === undefined ? null : /^(\d{1,9}) (.+)$/.exec(message);
    if (named) {
      const me = this.consumerIds[index];
      if (me !== undefined && !(named[2] ?? '').split(' ').includes(me)) {
        this.skipped[index] = (this.skipped[index] ?? 0) + 1;
        return;
      }
      count = named[1];
    }
    c.wakes++;
    if (count !== undefined && /^\d{1,9}$/.test(count)) c.announced += Number(count);
    else c.unknowns++;
    this.fire();
  }

  /**
   * Resolves once every message sent to this pool's subscriber before the
   * call has been handled (a PING on its connection, answered after them):
   * true then, false when no answer came within `ms`, or at once when the
   * connection is not ready (what was sent meanwhile is lost: its 'ready'
   * makes the pool reconcile) or, on a Cluster, no shard subscriber
   * connection is there to ask.
   */
  async barrier(ms: number): Promise<boolean> {
    if (this.subscriber.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([subscriberBarrier(this.subscriber), timedOut]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets a fire() already seen; a wait after it waits for the next one. */
  clear(): void {
    this.pending = false;
  }

  /** Resolves on a wake (or one that arrived since clear()), after `ms`, or on fire(). */
  wait(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.waiter === done) this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiter = done;
    });
  }

  /** Ends a current wait now (wake message, reconnect, stop, a free slot, a finished exchange). */
  fire(): void {
    this.pending = true;
    this.waiter?.();
  }

  async stop(): Promise<void> {
    this.fire();
    try {
      await this.subscriber.quit();
    } catch (err) {
      this.logger.debug({ err }, 'wake subscriber quit failed');
      this.subscriber.disconnect();
    }
  }
}
