import type { Redis } from 'ioredis';
import {
  discoverQueues,
  duplicateClient,
  flowKeys,
  globEscape,
  isClusterClient,
  onChannelMessage,
  onShardResubscribe,
  queueKeys,
  queueOfKey,
  subscribeChannels,
  subscriberBarrier,
  unsubscribeChannels,
  type RedisClient,
} from '@taskq/queue';
import type { Logger } from '@taskq/recorder';

/** How often (ms), on a Cluster, the streams that follow every queue look for new queues (EventHub). */
export const DEFAULT_REDISCOVER_MS = 2000;

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
 *
 * On a Redis Cluster a queue's events channel is a shard channel (the
 * scripts SPUBLISH; see subscribeChannels), and sharded pub/sub has no
 * pattern: following every queue is SSUBSCRIBE to each queue found
 * (discoverQueues, every master), looked for again every
 * `rediscoverMs`. A queue found later is subscribed, and the streams that
 * follow every queue are ended (lost()): they resume with their
 * Last-Event-ID, whose replay sends the new queue from its beginning. A
 * resharding or failover that moved a followed queue's slot ends every
 * stream the same way (ioredis subscribes the channels again on the new
 * node; the resume replays what was published in between).
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
  /** On a Cluster: the events channels subscribed for the streams that follow every queue, and the timer that looks for new queues. */
  private readonly allChannels = new Set<string>();
  private rediscover: NodeJS.Timeout | undefined;
  private readonly sharded: boolean;

  constructor(
    private readonly base: RedisClient,
    private readonly prefix: string,
    private readonly logger: Logger,
    /** CLIENT LIST name of the subscriber connection. */
    private readonly connectionName?: string,
    /** On a Cluster, how often (ms) the streams that follow every queue look for new queues. */
    private readonly rediscoverMs = DEFAULT_REDISCOVER_MS,
  ) {
    this.sharded = isClusterClient(base);
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
        await subscribeChannels(sub, [this.flowChannel]);
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
          await unsubscribeChannels(sub, [this.flowChannel]).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE failed'));
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
          if (this.sharded) await this.subscribeEveryQueue(sub);
          else await sub.psubscribe(this.pattern);
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
        await subscribeChannels(sub, fresh);
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
    if (sub) await subscriberBarrier(sub);
  }

  /**
   * On a Cluster: SSUBSCRIBEs the events channel of every queue not yet
   * subscribed for the streams that follow every queue; whether it found any.
   */
  private async subscribeEveryQueue(sub: Redis): Promise<boolean> {
    const fresh = (await discoverQueues(this.base, this.prefix)).map((q) => queueKeys(q, this.prefix).events).filter((c) => !this.allChannels.has(c));
    if (fresh.length === 0) return false;
    await subscribeChannels(sub, fresh);
    for (const c of fresh) this.allChannels.add(c);
    this.rediscover ??= setInterval(() => void this.serial(() => this.lookForQueues()), this.rediscoverMs);
    this.rediscover.unref();
    return true;
  }

  /** The timer's turn (on a Cluster, while streams follow every queue): new queues end those streams, which resume with them. */
  private async lookForQueues(): Promise<void> {
    const sub = this.sub;
    if (this.everyQueue.size === 0 || !sub) return;
    let found: boolean;
    try {
      found = await this.subscribeEveryQueue(sub);
    } catch (err) {
      this.logger.warn({ err }, `looking for new queues to follow failed: ${String(err)}`);
      return;
    }
    if (!found) return;
    const streams = [...this.everyQueue];
    this.logger.info({ streams: streams.length }, `new queues found: ending ${streams.length} event stream(s) that follow every queue; they resume with their Last-Event-ID, which replays the new queues`);
    for (const l of streams) l.lost('new queues were found; resume to have them replayed');
  }

  /** Stops following every queue (the last stream that did went). */
  private async unsubscribeEveryQueue(sub: Redis): Promise<void> {
    clearInterval(this.rediscover);
    this.rediscover = undefined;
    const channels = [...this.allChannels].filter((c) => !this.byChannel.has(c));
    this.allChannels.clear();
    if (channels.length > 0) await unsubscribeChannels(sub, channels);
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
    const sub = duplicateClient(this.base, { enableOfflineQueue: true, ...(this.connectionName ? { connectionName: this.connectionName } : {}) });
    sub.on('error', (err: Error) => this.logger.debug({ err: err.message }, `event subscriber connection: ${err.message}`));
    onChannelMessage(sub, (channel: string, text: string) => {
      if (channel === this.flowChannel) {
        for (const l of this.flowListeners) l.flow(text);
        return;
      }
      const set = this.byChannel.get(channel);
      const every = this.allChannels.has(channel);
      if (!set && !every) return;
      const queue = queueOfKey(channel, this.prefix);
      if (queue === undefined) return;
      for (const l of set ?? []) l.message(queue, text);
      if (every) for (const l of this.everyQueue) l.message(queue, text);
    });
    // a Cluster's shard channels subscribed again (a slot moved, a subscriber connection was made again)
    onShardResubscribe(sub, () => {
      if (this.sub !== sub) return;
      const listeners = this.listeners();
      if (listeners.size > 0) this.logger.warn({ streams: listeners.size }, `the Redis Cluster's slot map changed under the event subscriptions: ending ${listeners.size} event stream(s), whose clients resume with their Last-Event-ID`);
      for (const l of listeners) l.lost('the Redis Cluster moved a followed queue (its subscriptions were made again)');
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
        if (this.sharded) await this.unsubscribeEveryQueue(sub).catch((err: unknown) => this.logger.debug({ err }, 'SUNSUBSCRIBE failed'));
        else await sub.punsubscribe(this.pattern).catch((err: unknown) => this.logger.debug({ err }, 'PUNSUBSCRIBE failed'));
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
    // a channel the streams that follow every queue still need stays subscribed
    const unneeded = gone.filter((c) => !this.allChannels.has(c));
    if (unneeded.length > 0 && sub && !(await this.closeIfIdle())) {
      await unsubscribeChannels(sub, unneeded).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE failed'));
    }
  }

  /** Closes the connection when no stream follows anything; whether it did. */
  private async closeIfIdle(): Promise<boolean> {
    if (this.everyQueue.size > 0 || this.byChannel.size > 0 || this.flowListeners.size > 0) return false;
    const sub = this.sub;
    this.sub = undefined;
    clearInterval(this.rediscover);
    this.rediscover = undefined;
    this.allChannels.clear();
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
