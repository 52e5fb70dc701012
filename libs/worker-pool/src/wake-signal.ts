import type { Redis } from 'ioredis';
import type { Logger } from '@taskq/recorder';

/**
 * The pool's subscriber connection. The wake channel wakes an idle pool when
 * tasks are enqueued, released, recovered or scheduled (those scripts publish
 * on it); the control channel carries cancel requests. Pub/sub may drop a
 * message (e.g. during a reconnect), so every wait is also bounded, and the
 * heartbeat re-reports cancel requests.
 */
export class WakeSignal {
  private pending = false;
  private waiter: (() => void) | undefined;
  private wakes = 0;
  private announced = 0;
  private unknowns = 0;

  constructor(
    private readonly subscriber: Redis,
    private readonly wakeChannel: string,
    private readonly controlChannel: string,
    private readonly onControl: (message: string) => void,
    private readonly logger: Logger,
    /** Called when the connection is (re)established: replies to commands in flight may have been lost. */
    private readonly onReady: () => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      // String(): the in-memory Redis of the demo passes a published number through as a number
      if (channel === this.wakeChannel) this.wake(String(message));
      else if (channel === this.controlChannel) this.onControl(message);
    });
    // after a reconnect a message may have been missed: look at the queue
    this.subscriber.on('ready', () => {
      this.onReady();
      this.wake(undefined);
    });
    await this.subscriber.subscribe(this.wakeChannel, this.controlChannel);
  }

  /**
   * How many times the queue said there may be new work (a wake message, or
   * a reconnect after which one may have been missed). A pool whose fetch
   * emptied the ready list fetches again once this changes (or when a
   * delayed task is due, or after the poll interval).
   */
  get wakeCount(): number {
    return this.wakes;
  }

  /**
   * The tasks wake messages said became ready, summed over all of them (a
   * message is the count: enqueue, release, recover, reconcile and
   * requeue-dead publish how many; 0 when only a due time changed). A pool
   * whose queue ran dry asks for that many tasks on its next fetch, not for
   * one per idle sub-worker.
   */
  get announcedCount(): number {
    return this.announced;
  }

  /** Wakes that said no count (a reconnect, or a message that is not a count): a pool then asks for its full share. */
  get unknownCount(): number {
    return this.unknowns;
  }

  private wake(message: string | undefined): void {
    this.wakes++;
    if (message !== undefined && /^\d{1,9}$/.test(message)) this.announced += Number(message);
    else this.unknowns++;
    this.fire();
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
