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
      if (channel === this.wakeChannel) this.fire();
      else if (channel === this.controlChannel) this.onControl(message);
    });
    // after a reconnect a message may have been missed: look at the queue
    this.subscriber.on('ready', () => {
      this.onReady();
      this.fire();
    });
    await this.subscriber.subscribe(this.wakeChannel, this.controlChannel);
  }

  /** Marks "there may be work"; called before each fetch so a wake during it is not lost. */
  clear(): void {
    this.pending = false;
  }

  /** Resolves on a wake (or one that arrived since clear()), after `ms`, or on fire(). */
  wait(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        if (self.waiter === done) self.waiter = undefined;
        resolve();
      }
      this.waiter = done;
    });
  }

  /** Ends a current wait now (wake message, reconnect, stop, or a free slot). */
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
