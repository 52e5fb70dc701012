import type { Redis } from 'ioredis';
import {
  FINAL_STATUSES,
  StatusRecorder,
  decodeStatusMessage,
  isFinalStatus,
  type StatusRecord,
  type TaskStatus,
} from '@taskq/recorder';
import { QueueClient } from '@taskq/queue';
import { resolveMonitorOptions, type MonitorOptions, type MonitorSettings } from './monitor-options';
import { MonitorNotRunningError } from './monitor-not-running-error';
import { ResyncScheduler } from './resync-scheduler';
import { ANY, StatusListeners, type StatusCallback, type StatusFilter } from './status-listeners';
import { waitForStatuses, type WaitForOptions } from './wait-for';

/**
 * Whether `later` is the published record of the very transition `known`
 * stands in for: an enqueued task's record is read from its body with seq 0
 * (see StatusRecorder.get), the live one carries the real seq; same status,
 * attempt and time (both come from the enqueue script's clock).
 */
function isSameEnqueue(known: StatusRecord, later: StatusRecord): boolean {
  return known.seq === 0 && known.status === later.status && known.attempt === later.attempt && known.at === later.at;
}

/**
 * Follows the status changes of one queue, live.
 *
 * Every transition is published on the queue's events channel, but pub/sub is
 * at-most-once: a message sent while the subscriber reconnects is lost. The
 * recorded status (a hash written in the same Lua step) is the truth, so the
 * monitor re-reads it for the tasks it follows whenever it may have missed
 * something: after a reconnect, and when a record's per-queue `seq` jumps past
 * the last one seen (the monitor sees every event of the queue, so a jump is a
 * lost message). Records from both sources can arrive out of order; a record
 * only replaces the known one of its task when its `seq` is greater.
 *
 * ```ts
 * const monitor = new Monitor({ queue: 'emails', connection: 'redis://127.0.0.1:6379' });
 * await monitor.start();
 * const record = await monitor.waitFor(task.id); // its final StatusRecord
 * await monitor.stop();
 * ```
 *
 * Lifecycle (`start`/`stop` are serialized, each idempotent):
 * ```text
 *   stopped ──start()──► (subscribing) ──► running ──stop()──► stopped
 *      ▲                      │ subscribe failed
 *      └──────────────────────┘
 * ```
 */
export class Monitor extends QueueClient {
  private readonly options: Required<MonitorSettings>;
  private readonly channel: string;
  /** Latest record per task, least recently changed first (for eviction). */
  private readonly records = new Map<string, StatusRecord>();
  /** Followed tasks not yet known to be final: the ones a resync re-reads. */
  private readonly followed = new Set<string>();
  private readonly listeners: StatusListeners;
  private readonly resyncs: ResyncScheduler;
  private readonly stopHandlers = new Set<(err: Error) => void>();
  private state: 'stopped' | 'running' = 'stopped';
  private lifecycle: Promise<void> = Promise.resolve();
  private subscriber: { readonly client: Redis; readonly detach: () => void } | undefined;
  /** waitFor()s' first reads under way. */
  private readonly reads = new Set<Promise<unknown>>();
  /** Highest `seq` received on the channel since subscribing. */
  private lastSeq: number | undefined;

  // no default value: the constructor's length stays 1, so a container cannot build it without its options
  constructor(options?: MonitorOptions) {
    super(options ?? {}, 'taskq-monitor');
    options ??= {};
    this.options = resolveMonitorOptions(options);
    this.channel = this.keys.events;
    this.listeners = new StatusListeners((err, record) =>
      this.logger.warn({ err, taskId: record.id, status: record.status }, '[Monitor] A status callback threw'),
    );
    this.resyncs = new ResyncScheduler(
      () => this.readAndApply([...this.followed]),
      this.options.resyncDebounceMs,
      (err) => this.logger.warn({ err }, '[Monitor] Resync failed'),
    );
  }

  /** Whether the monitor is subscribed to the events channel. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** Opens the subscriber connection; resolves once subscribed to the events channel. */
  start(): Promise<void> {
    return this.serialize(() => (this.state === 'running' ? Promise.resolve() : this.connect()));
  }

  /**
   * Unsubscribes and quits the monitor's subscriber connection (and the
   * connection it opened itself, never a client it was given); rejects pending
   * `waitFor`s.
   */
  stop(): Promise<void> {
    return this.serialize(() => (this.state === 'running' ? this.disconnect() : Promise.resolve()));
  }

  /** The latest known record of `taskId`, or undefined when none was seen (or it was evicted). */
  latest(taskId: string): StatusRecord | undefined {
    return this.records.get(taskId);
  }

  /**
   * Calls `callback` for each applied change of `taskId` (or of every task, with
   * `'*'`) to one of `statuses` (or any status, with `'*'`). Changes only: a
   * status already known when registering is not replayed. Returns a function
   * that unregisters the callback.
   */
  onStatus(taskId: string, statuses: StatusFilter, callback: StatusCallback): () => void {
    return this.listeners.add(taskId, statuses, callback);
  }

  /** Marks tasks as followed: resyncs re-read their recorded status until it is final. */
  follow(taskIds: Iterable<string>): void {
    for (const id of taskIds) {
      const known = this.records.get(id);
      if (known === undefined || !isFinalStatus(known.status)) this.followed.add(id);
    }
  }

  /** Stops following tasks (a timed-out `waitFor` leaves its tasks followed). */
  unfollow(taskIds: Iterable<string>): void {
    for (const id of taskIds) this.followed.delete(id);
  }

  /**
   * Resolves when every task in `taskIds` has been seen with one of `statuses`
   * (default: a final status) as its latest status, with that record per id.
   * Follows the tasks and reads their recorded status, so a task that got
   * there before the call resolves too. Needs a started monitor (awaits a
   * `start()` in progress). Rejects with `MonitorTimeoutError` after
   * `timeoutMs`, with `signal.reason` on abort, and with
   * `MonitorNotRunningError` when the monitor stops first.
   */
  waitFor(taskId: string, statuses?: readonly TaskStatus[], options?: WaitForOptions): Promise<StatusRecord>;
  waitFor(taskIds: Iterable<string>, statuses?: readonly TaskStatus[], options?: WaitForOptions): Promise<Map<string, StatusRecord>>;
  async waitFor(
    taskIds: string | Iterable<string>,
    statuses: readonly TaskStatus[] = FINAL_STATUSES,
    options: WaitForOptions = {},
  ): Promise<StatusRecord | Map<string, StatusRecord>> {
    if (typeof taskIds === 'string') {
      const records = await this.waitForMany([taskIds], statuses, options);
      return records.get(taskIds) as StatusRecord;
    }
    return this.waitForMany(taskIds, statuses, options);
  }

  private async waitForMany(
    taskIds: Iterable<string>,
    statuses: readonly TaskStatus[],
    options: WaitForOptions,
  ): Promise<Map<string, StatusRecord>> {
    await this.lifecycle;
    if (this.state !== 'running') {
      throw new MonitorNotRunningError('Monitor.waitFor() needs a running monitor: call start() first');
    }
    const ids = [...new Set(taskIds)];
    this.follow(ids);
    return waitForStatuses(
      {
        listen: (callback) => this.listeners.add(ANY, ANY, callback),
        latest: (id) => this.records.get(id),
        seed: (pending) => this.trackRead(this.readAndApply(pending, () => this.state === 'running')),
        onStop: (cancel) => {
          this.stopHandlers.add(cancel);
          return () => this.stopHandlers.delete(cancel);
        },
      },
      ids,
      statuses,
      options,
    );
  }

  /** Re-reads the recorded status of every followed, not yet final task and applies what is newer. */
  resync(): Promise<void> {
    return this.resyncs.now();
  }

  private serialize(step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(step);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private async connect(): Promise<void> {
    this.reopenOwnConnection(); // after a stop()
    const client: Redis = await this.openSubscriber();
    const onMessage = (channel: string, message: string): void => this.onMessage(channel, message);
    // ioredis re-subscribes by itself after a reconnect and emits 'ready' again;
    // anything published while it was away is only in the recorded statuses.
    // The first 'ready' of a connection is its initial connect, not a reconnect.
    let readies = client.status === 'ready' ? 1 : 0;
    const onReady = (): void => {
      readies += 1;
      if (readies === 1 || this.subscriber?.client !== client) return;
      this.logger.debug({ channel: this.channel }, '[Monitor] Subscriber reconnected, resyncing');
      // ioredis emits 'ready' just before it re-sends SUBSCRIBE. Subscribing
      // again (idempotent) resolves only once Redis has confirmed it, so the
      // re-read starts when no later event can be missed any more.
      client.subscribe(this.channel).then(
        () => this.resyncs.schedule(),
        (err: unknown) => {
          this.logger.warn({ err }, '[Monitor] Re-subscribing after a reconnect failed; resyncing anyway');
          this.resyncs.schedule();
        },
      );
    };
    const onError = (err: unknown): void => this.logger.warn({ err }, '[Monitor] Subscriber connection error');
    const detach = (): void => {
      client.off('message', onMessage);
      client.off('ready', onReady);
    };
    client.on('message', onMessage);
    client.on('ready', onReady);
    client.on('error', onError);
    this.lastSeq = undefined;
    try {
      await client.subscribe(this.channel);
    } catch (err) {
      detach();
      client.disconnect();
      await this.closeOwnConnection();
      throw err;
    }
    this.subscriber = { client, detach };
    this.state = 'running';
    // After a stop/start, followed tasks may have changed while nobody listened.
    if (this.followed.size > 0) this.resyncs.schedule();
  }

  private async disconnect(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.state = 'stopped';
    this.resyncs.cancel();
    for (const cancel of [...this.stopHandlers]) {
      cancel(new MonitorNotRunningError('Monitor stopped before the awaited statuses were reached'));
    }
    if (subscriber !== undefined) {
      const { client } = subscriber;
      subscriber.detach();
      try {
        if (client.status === 'reconnecting' || client.status === 'connecting') {
          // Commands would wait in the offline queue for a server that is away.
          client.disconnect();
        } else if (client.status !== 'end') {
          await client.unsubscribe(this.channel);
          await client.quit();
        }
      } catch (err) {
        this.logger.warn({ err }, '[Monitor] Closing the subscriber connection failed');
        client.disconnect();
      }
    }
    await this.resyncs.idle();
    await Promise.all(this.reads); // first reads of waitFor()s, which stop at their next chunk
    await this.closeOwnConnection();
  }

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let records: StatusRecord[];
    try {
      records = decodeStatusMessage(message);
    } catch (err) {
      this.logger.warn({ err, channel }, '[Monitor] Ignoring a message that is not a list of status records');
      return;
    }
    for (const record of records) {
      if (this.lastSeq !== undefined && record.seq > this.lastSeq + 1) {
        this.logger.debug({ lastSeq: this.lastSeq, seq: record.seq }, '[Monitor] Missed status events, resyncing');
        this.resyncs.schedule();
      }
      if (this.lastSeq === undefined || record.seq > this.lastSeq) this.lastSeq = record.seq;
      this.apply(record);
    }
  }

  /** Keeps `read` until it settles, so that stop() can wait for it. */
  private trackRead(read: Promise<void>): Promise<void> {
    const settled = read.catch(() => undefined);
    this.reads.add(settled);
    void settled.finally(() => this.reads.delete(settled));
    return read;
  }

  /** Reads recorded statuses in chunks and applies them (while `goOn()` says so). */
  private async readAndApply(taskIds: readonly string[], goOn: () => boolean = () => true): Promise<void> {
    const size = this.options.readChunkSize;
    for (let i = 0; i < taskIds.length && goOn(); i += size) {
      const recorder = new StatusRecorder(await this.connection.client(), this.keys);
      const records = await recorder.getMany(taskIds.slice(i, i + size));
      for (const record of records.values()) {
        if (record !== undefined) this.apply(record);
      }
    }
  }

  /** Makes `record` the latest of its task if it is newer; logs it and fires callbacks. */
  private apply(record: StatusRecord): void {
    const known = this.records.get(record.id);
    if (known !== undefined && record.seq <= known.seq) return;
    if (known !== undefined && isSameEnqueue(known, record)) {
      // the published record of the enqueue that the body's stand-in (seq 0) was read for: no news
      this.records.set(record.id, record);
      return;
    }
    // Re-inserted so the map stays ordered by last change.
    this.records.delete(record.id);
    this.records.set(record.id, record);
    // A final status never changes: nothing left to resync for this task.
    if (isFinalStatus(record.status)) this.followed.delete(record.id);
    this.evictOverflow();
    if (this.options.log) {
      const { id: taskId, status, attempt, worker, reason } = record;
      const suffix = reason === undefined ? '' : ` (${reason})`;
      this.logger.info({ taskId, status, attempt, worker, reason }, `[Monitor] Task ${taskId} is ${status}${suffix}`);
    }
    this.listeners.emit(record);
  }

  /** Forgets the least recently changed records beyond `maxRecords`, keeping followed pending tasks. */
  private evictOverflow(): void {
    let excess = this.records.size - this.options.maxRecords;
    if (excess <= 0) return;
    for (const id of this.records.keys()) {
      if (excess <= 0) break;
      if (this.followed.has(id)) continue;
      this.records.delete(id);
      excess -= 1;
    }
  }
}
