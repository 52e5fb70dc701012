import type { Redis } from 'ioredis';
import { flowKeys, globEscape, queueKeys, queueOfKey, type RedisClient } from '@taskq/queue';
import type { Logger } from '@taskq/recorder';

/** What the hub hands each event stream that follows a queue. */
export interface HubListener {
  /** A message of `queue`'s events channel, as published (called in the order Redis sent them). */
  message(queue: string, text: string): void;
  /** A message of the flow events channel (`<prefix>:flow-events`), for a stream that follows flows (followFlows). */
  flow(text: string): void;
  /** The subscriber connection was lost: messages may have been missed, so the stream must end (its client resumes). */
  lost(reason: string): void;
}

/** What follow() asks for: these queues, or every queue under the prefix (those created later too). */
export type Follow = readonly string[] | 'all';

/**
 * One pub/sub connection per API process, shared by every event stream:
 * SUBSCRIBE to the events channel of each queue some stream follows, and one
 * PSUBSCRIBE to `<prefix>:{*}:events` (the prefix glob-escaped) while some
 * stream follows every queue; each message is handed to the streams that
 * follow its queue. A channel is unsubscribed when its last stream goes, and
 * the connection closed when no stream is left (opened again by the next).
 * Subscribe and unsubscribe run one at a time, in order.
 *
 * Pub/sub drops what is published while a connection is down: when the
 * connection is lost, every stream is told (lost()), ends, and its client
 * resumes with its Last-Event-ID, which replays what it missed.
 */
export class EventHub {
  private sub: Redis | undefined;
  private readonly byChannel = new Map<string, Set<HubListener>>();
  private readonly everyQueue = new Set<HubListener>();
  /** Streams that follow the flow events channel (SUBSCRIBEd while there is one). */
  private readonly flowListeners = new Set<HubListener>();
  private readonly pattern: string;
  private readonly flowChannel: string;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly base: RedisClient,
    private readonly prefix: string,
    private readonly logger: Logger,
    /** CLIENT LIST name of the subscriber connection. */
    private readonly connectionName?: string,
  ) {
    this.pattern = `${globEscape(prefix)}:{*}:events`;
    this.flowChannel = flowKeys(prefix).events;
  }

  /** Streams following, channels subscribed, whether the pattern is, and whether the connection is open. */
  get stats(): { readonly listeners: number; readonly channels: number; readonly pattern: boolean; readonly connected: boolean } {
    return { listeners: this.listeners().size, channels: this.byChannel.size, pattern: this.everyQueue.size > 0, connected: this.sub !== undefined };
  }

  /** Every stream following anything. */
  private listeners(): Set<HubListener> {
    const listeners = new Set<HubListener>([...this.everyQueue, ...this.flowListeners]);
    for (const set of this.byChannel.values()) for (const l of set) listeners.add(l);
    return listeners;
  }

  /**
   * Hands `listener` the flow events (the `<prefix>:flow-events` channel) from
   * the moment this resolves. Returns the function that stops that.
   */
  async followFlows(listener: HubListener): Promise<() => Promise<void>> {
    await this.serial(async () => {
      if (this.closed) throw new Error('the event hub is closed');
      const sub = this.connection();
      this.flowListeners.add(listener);
      if (this.flowListeners.size > 1) return;
      try {
        await sub.subscribe(this.flowChannel);
      } catch (err) {
        this.flowListeners.delete(listener);
        await this.closeIfIdle();
        throw err;
      }
    });
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      await this.serial(async () => {
        const sub = this.sub;
        if (this.flowListeners.delete(listener) && this.flowListeners.size === 0 && sub && !(await this.closeIfIdle())) {
          await sub.unsubscribe(this.flowChannel).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE failed'));
        }
      });
    };
  }

  /**
   * Hands `listener` the messages of the queues asked for, from the moment this
   * resolves (subscribed: anything published later reaches it). Returns the
   * function that stops that (and unsubscribes what no other stream needs).
   */
  async follow(listener: HubListener, queues: Follow): Promise<() => Promise<void>> {
    await this.serial(async () => {
      if (this.closed) throw new Error('the event hub is closed');
      const sub = this.connection();
      if (queues === 'all') {
        this.everyQueue.add(listener);
        if (this.everyQueue.size > 1) return;
        try {
          await sub.psubscribe(this.pattern);
        } catch (err) {
          this.everyQueue.delete(listener);
          await this.closeIfIdle();
          throw err;
        }
        return;
      }
      const fresh: string[] = [];
      for (const queue of queues) {
        const channel = queueKeys(queue, this.prefix).events;
        let set = this.byChannel.get(channel);
        if (!set) {
          set = new Set();
          this.byChannel.set(channel, set);
          fresh.push(channel);
        }
        set.add(listener);
      }
      if (fresh.length === 0) return;
      try {
        await sub.subscribe(...fresh);
      } catch (err) {
        await this.drop(listener, queues);
        throw err;
      }
    });
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      await this.serial(() => this.drop(listener, queues));
    };
  }

  /**
   * Resolves once every message published before this call has been handed
   * out: a PING on the subscriber connection, whose reply comes after them.
   */
  async barrier(): Promise<void> {
    const sub = this.sub;
    if (sub) await sub.ping();
  }

  /** Closes the connection; every stream still following is told it is lost. */
  async close(): Promise<void> {
    await this.serial(async () => {
      this.closed = true;
      const listeners = this.listeners();
      this.everyQueue.clear();
      this.flowListeners.clear();
      this.byChannel.clear();
      for (const l of listeners) l.lost('the server is stopping');
      await this.closeIfIdle();
    });
  }

  private serial(op: () => Promise<void>): Promise<void> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private connection(): Redis {
    if (this.sub) return this.sub;
    const sub = (this.base as Redis).duplicate({ enableOfflineQueue: true, ...(this.connectionName ? { connectionName: this.connectionName } : {}) });
    sub.on('error', (err: Error) => this.logger.debug({ err: err.message }, `event subscriber connection: ${err.message}`));
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.flowChannel) {
        for (const l of this.flowListeners) l.flow(text);
        return;
      }
      const set = this.byChannel.get(channel);
      if (!set) return;
      const queue = queueOfKey(channel, this.prefix);
      if (queue === undefined) return;
      for (const l of set) l.message(queue, text);
    });
    sub.on('pmessage', (_pattern: string, channel: string, text: string) => {
      if (this.everyQueue.size === 0) return;
      const queue = queueOfKey(channel, this.prefix);
      // the pattern matches more than events channels of valid queue names (`{a}:b}:events`)
      if (queue === undefined || queueKeys(queue, this.prefix).events !== channel) return;
      for (const l of this.everyQueue) l.message(queue, text);
    });
    let ready = false;
    sub.on('ready', () => {
      ready = true;
    });
    sub.on('close', () => {
      if (this.sub !== sub || !ready) return;
      ready = false;
      const listeners = this.listeners();
      if (listeners.size > 0) this.logger.warn({ streams: listeners.size }, `the event subscriber connection to Redis was lost: ending ${listeners.size} event stream(s), whose clients resume with their Last-Event-ID`);
      for (const l of listeners) l.lost('the Redis subscriber connection was lost');
    });
    this.sub = sub;
    return sub;
  }

  /** Stops handing `listener` anything; unsubscribes what nobody follows now; closes the connection when nothing is. */
  private async drop(listener: HubListener, queues: Follow): Promise<void> {
    const sub = this.sub;
    if (queues === 'all') {
      if (this.everyQueue.delete(listener) && this.everyQueue.size === 0 && sub && !(await this.closeIfIdle())) {
        await sub.punsubscribe(this.pattern).catch((err: unknown) => this.logger.debug({ err }, 'PUNSUBSCRIBE failed'));
      }
      return;
    }
    const gone: string[] = [];
    for (const queue of queues) {
      const channel = queueKeys(queue, this.prefix).events;
      const set = this.byChannel.get(channel);
      if (!set) continue;
      set.delete(listener);
      if (set.size === 0) {
        this.byChannel.delete(channel);
        gone.push(channel);
      }
    }
    if (gone.length > 0 && sub && !(await this.closeIfIdle())) {
      await sub.unsubscribe(...gone).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE failed'));
    }
  }

  /** Closes the connection when no stream follows anything; whether it did. */
  private async closeIfIdle(): Promise<boolean> {
    if (this.everyQueue.size > 0 || this.byChannel.size > 0 || this.flowListeners.size > 0) return false;
    const sub = this.sub;
    this.sub = undefined;
    if (!sub) return true;
    if (sub.status === 'ready') {
      try {
        await sub.quit();
        return true;
      } catch {
        // the socket went meanwhile
      }
    }
    const status: string = sub.status;
    if (status !== 'end') sub.disconnect();
    return true;
  }
}
