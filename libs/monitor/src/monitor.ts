import type { Redis } from 'ioredis';
import {
  FINAL_STATUSES,
  StatusRecorder,
  decodeStatusMessage,
  isFinalStatus,
  type StatusRecord,
  type TaskStatus,
} from '@taskq/recorder';
import {
  decodeProgressEvent,
  decodeQueueEvent,
  describeProgress,
  EpochWatch,
  flowKeys,
  Flows,
  onChannelMessage,
  onShardResubscribe,
  QueueClient,
  readGeneration,
  subscribeChannels,
  unsubscribeChannels,
  type DataLoss,
  type FlowEvent,
  type FlowState,
  type ProgressUpdate,
  type QueueEvent,
} from '@taskq/queue';
import { resolveMonitorOptions, type MonitorOptions, type MonitorSettings } from './monitor-options';
import { MonitorNotRunningError } from './monitor-not-running-error';
import { ResyncScheduler } from './resync-scheduler';
import { ANY, StatusListeners, type StatusCallback, type StatusFilter } from './status-listeners';
import { waitForStatuses, type WaitForOptions } from './wait-for';
import { FlowFollower } from './flow-follower';

/** What `Monitor.onDataLost` reports: Redis lost the queue's data, and these followed tasks with it. */
export interface MonitorDataLoss {
  readonly loss: DataLoss;
  /** Followed tasks (waited for, or passed to follow()) that are unknown to Redis now; they are followed no more. */
  readonly taskIds: readonly string[];
}

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
  /** Pending waitFor()s, told which tasks Redis lost. */
  private readonly waitLossHandlers = new Set<(lost: ReadonlySet<string>, loss: DataLoss) => void>();
  private state: 'stopped' | 'running' = 'stopped';
  private lifecycle: Promise<void> = Promise.resolve();
  private subscriber: { readonly client: Redis; readonly detach: () => void } | undefined;
  /** waitFor()s' first reads under way. */
  private readonly reads = new Set<Promise<unknown>>();
  /** Highest `seq` received on the channel since subscribing. */
  private lastSeq: number | undefined;
  /** The queue's data generation as this monitor saw it (epoch, highest seq). */
  private readonly watch: EpochWatch;
  private readonly lossListeners = new Set<(event: MonitorDataLoss) => void>();
  private readonly queueEventListeners = new Set<(event: QueueEvent) => void>();
  private readonly progressListeners = new Set<(update: ProgressUpdate) => void>();
  /** The epoch read learnEpoch() started, while it runs. */
  private learning: Promise<void> | undefined;
  /** The flow events channel (one per key prefix) and what follows it. */
  private readonly flowChannel: string;
  private readonly flows: FlowFollower;
  /** The subscription to the flow events channel, once something needed it. */
  private flowSubscription: Promise<void> | undefined;

  // no default value: the constructor's length stays 1, so a container cannot build it without its options
  constructor(options?: MonitorOptions) {
    super(options ?? {}, 'taskq-monitor');
    options ??= {};
    this.options = resolveMonitorOptions(options);
    this.channel = this.keys.events;
    this.listeners = new StatusListeners((err, record) =>
      this.logger.warn({ err, taskId: record.id, status: record.status }, '[Monitor] A status callback threw'),
    );
    this.watch = new EpochWatch(this.keys.queue);
    this.flowChannel = flowKeys(this.keys.prefix).events;
    const flowReader = new Flows({ connection: this.connection, prefix: this.keys.prefix, queue: this.keys.queue });
    this.flows = new FlowFollower((id) => flowReader.get(id), this.logger);
    this.resyncs = new ResyncScheduler(
      async () => {
        await this.readAndApply([...this.followed]);
        await this.flows.resync();
      },
      this.options.resyncDebounceMs,
      (err, retryInMs) => this.logger.warn({ err }, `[Monitor] Resync failed, trying again in ${retryInMs} ms: ${String(err)}`),
      () => this.state === 'running',
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

  /**
   * Calls `callback` with each flow event (see FlowEvent: a flow's status and
   * counts after each change, and which step ended), of every flow under the
   * monitor's key prefix. Live only, like onStatus: read a flow's state with
   * `Flows.get`, or wait for its end with waitForFlow. Subscribes to the flow
   * events channel (at start, or now if running). Returns a function that
   * unregisters it.
   */
  onFlowEvent(callback: (event: FlowEvent) => void): () => void {
    this.flows.listeners.add(callback);
    if (this.state === 'running') void this.subscribeFlows().catch((err: unknown) => this.logger.warn({ err }, '[Monitor] Subscribing to flow events failed'));
    return () => this.flows.listeners.delete(callback);
  }

  /**
   * Resolves with a flow's final state (FlowDone, FlowFailed or
   * FlowCancelled; see Flows.get) once it ended, at once if it already had.
   * Lossless as waitFor is: it reads the flow's hash once subscribed to the
   * flow events, again on an event that ends the flow or follows a missed
   * one, and after every reconnect. Rejects with FlowNotFoundError for a flow
   * Redis does not have (never added, forgotten, or lost), MonitorTimeoutError
   * after `timeoutMs`, the signal's reason on abort, MonitorNotRunningError
   * when the monitor stops first.
   */
  async waitForFlow(flowId: string, options: WaitForOptions = {}): Promise<FlowState> {
    await this.lifecycle;
    if (this.state !== 'running') {
      throw new MonitorNotRunningError('Monitor.waitForFlow() needs a running monitor: call start() first');
    }
    return this.flows.wait(flowId, this.subscribeFlows(), options);
  }

  /** Subscribes the monitor's connection to the flow events channel (once; ioredis re-subscribes after a reconnect). */
  private subscribeFlows(): Promise<void> {
    const client = this.subscriber?.client;
    if (!client) return Promise.reject(new MonitorNotRunningError('the monitor is not running'));
    this.flowSubscription ??= subscribeChannels(client, [this.flowChannel]).then(
      () => undefined,
      (err: unknown) => {
        this.flowSubscription = undefined;
        throw err;
      },
    );
    return this.flowSubscription;
  }

  /**
   * Calls `callback` when the monitor finds that Redis lost the queue's data
   * (checked on every re-read: after a reconnect, a gap or a step back in
   * `seq`, and each waitFor's first read): the queue's epoch changed or its
   * seq counter went back. The event names the followed tasks that are
   * unknown to Redis now; their `waitFor`s reject with TasksLostError
   * (`TASKQ_TASKS_LOST`). The monitor then forgets the records it knew and
   * follows the queue's new data. Returns a function that unregisters it.
   */
  onDataLost(callback: (event: MonitorDataLoss) => void): () => void {
    this.lossListeners.add(callback);
    return () => this.lossListeners.delete(callback);
  }

  /** Calls `callback` for each pause or resume of the queue (see Queue.pause). Returns a function that unregisters it. */
  onQueueEvent(callback: (event: QueueEvent) => void): () => void {
    this.queueEventListeners.add(callback);
    return () => this.queueEventListeners.delete(callback);
  }

  /**
   * Calls `callback` with each progress update of a running task, as its
   * handler reported it (`ctx.progress`) and its worker wrote it: task id,
   * `pct`, `done`/`total` when given, `msg`, `at` (Redis time). The worker
   * throttles them (at most one per task per its `progressIntervalMs`). Live
   * only: a progress update missed during a reconnect is not replayed (read
   * the latest with `Queue.progress(id)`). Returns a function that unregisters it.
   */
  onProgress(callback: (update: ProgressUpdate) => void): () => void {
    this.progressListeners.add(callback);
    return () => this.progressListeners.delete(callback);
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
        onLost: (cancel) => {
          this.waitLossHandlers.add(cancel);
          return () => this.waitLossHandlers.delete(cancel);
        },
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
      subscribeChannels(client, [this.channel]).then(
        () => this.resyncs.schedule(),
        (err: unknown) => {
          this.logger.warn({ err }, '[Monitor] Re-subscribing after a reconnect failed; resyncing anyway');
          this.resyncs.schedule();
        },
      );
    };
    const onError = (err: unknown): void => this.logger.warn({ err }, '[Monitor] Subscriber connection error');
    const offMessage = onChannelMessage(client, (channel, message) => this.onMessage(channel, message));
    // On a Cluster the queue's channel is a shard channel (SSUBSCRIBE on the
    // node that owns the queue's slot): when a resharding or a failover moves
    // the slot, ioredis subscribes it again on the new owner; what was
    // published in between is only in the recorded statuses.
    const offResubscribe = onShardResubscribe(client, () => {
      if (this.subscriber?.client !== client) return;
      this.logger.debug({ channel: this.channel }, '[Monitor] Shard channel subscribed again (slot map changed), resyncing');
      this.resyncs.schedule();
    });
    const detach = (): void => {
      offMessage();
      offResubscribe();
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
    client.on('error', onError);
    this.lastSeq = undefined;
    try {
      await subscribeChannels(client, [this.channel]);
    } catch (err) {
      detach();
      client.disconnect();
      await this.closeOwnConnection();
      throw err;
    }
    this.subscriber = { client, detach };
    this.state = 'running';
    if (this.flows.active) await this.subscribeFlows();
    // After a stop/start, followed tasks may have changed while nobody listened
    // (and Redis may have lost the queue's data meanwhile: the resync checks).
    if (this.followed.size > 0 || this.watch.current !== undefined) this.resyncs.schedule();
    else await this.checkGeneration().catch((err: unknown) => this.logger.warn({ err }, `[Monitor] Reading the queue's epoch failed: ${String(err)}`));
  }

  private async disconnect(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.state = 'stopped';
    this.resyncs.cancel();
    for (const cancel of [...this.stopHandlers]) {
      cancel(new MonitorNotRunningError('Monitor stopped before the awaited statuses were reached'));
    }
    this.flows.rejectAll(new MonitorNotRunningError('Monitor stopped before the awaited flow ended'));
    const channels = this.flowSubscription ? [this.channel, this.flowChannel] : [this.channel];
    this.flowSubscription = undefined;
    if (subscriber !== undefined) {
      const { client } = subscriber;
      subscriber.detach();
      try {
        if (client.status === 'reconnecting' || client.status === 'connecting') {
          // Commands would wait in the offline queue for a server that is away.
          client.disconnect();
        } else if (client.status !== 'end') {
          await unsubscribeChannels(client, channels);
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
    if (channel === this.flowChannel) return this.flows.onMessage(message);
    if (channel !== this.channel) return;
    // progress events carry no seq: they tell nothing of gaps
    const progress = decodeProgressEvent(message);
    if (progress !== undefined) {
      for (const update of progress.tasks) this.onProgressUpdate(update);
      return;
    }
    const event = decodeQueueEvent(message);
    if (event !== undefined) {
      this.noteSeq(event.seq);
      this.onQueueEventMessage(event);
      return;
    }
    let records: StatusRecord[];
    try {
      records = decodeStatusMessage(message);
    } catch (err) {
      this.logger.warn({ err, channel }, '[Monitor] Ignoring a message that is not a list of status records');
      return;
    }
    for (const record of records) {
      this.noteSeq(record.seq);
      this.apply(record);
    }
  }

  /** The seq of an event on the channel: a gap or a step back schedules a re-read. */
  private noteSeq(seq: number): void {
    if (this.lastSeq !== undefined && seq > this.lastSeq + 1) {
      this.logger.debug({ lastSeq: this.lastSeq, seq }, '[Monitor] Missed status events, resyncing');
      this.resyncs.schedule();
    } else if (this.lastSeq !== undefined && seq < this.lastSeq) {
      // the queue's seq counter went back: Redis may have lost its data (the resync checks the epoch)
      this.logger.debug({ lastSeq: this.lastSeq, seq }, '[Monitor] Status events went back in seq, resyncing');
      this.lastSeq = seq;
      this.resyncs.schedule();
    }
    if (this.watch.current !== undefined) this.watch.seeSeq(seq);
    else this.learnEpoch();
    if (this.lastSeq === undefined || seq > this.lastSeq) this.lastSeq = seq;
  }

  /** A pause or resume of the queue: logged, and passed to onQueueEvent callbacks. */
  private onQueueEventMessage(event: QueueEvent): void {
    const queue = this.keys.queue;
    if (this.options.log) {
      const why = event.reason === undefined ? '' : ` (${event.reason})`;
      this.logger.info({ queue, event: event.event, reason: event.reason }, `[Monitor] Queue ${queue} is ${event.event}${why}`);
    }
    this.notify(this.queueEventListeners, event, 'queue event');
  }

  /** A running task's progress: logged (see MonitorSettings.logProgress), and passed to onProgress callbacks. */
  private onProgressUpdate(update: ProgressUpdate): void {
    if (this.options.log && this.options.logProgress) {
      const { id: taskId, pct, done, total, msg } = update;
      this.logger.info({ taskId, progress: { pct, done, total, msg } }, `[Monitor] Task ${taskId} progress ${describeProgress(update)}`);
    }
    if (this.progressListeners.size > 0) this.notify(this.progressListeners, update, 'progress');
  }

  /** Calls each of `listeners` with `event`; one that throws is logged, the others still run. */
  private notify<E>(listeners: ReadonlySet<(event: E) => void>, event: E, what: string): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.warn({ err }, `[Monitor] A ${what} callback threw`);
      }
    }
  }

  /**
   * Reads the queue's epoch once events of the queue arrive while the monitor
   * knows none (it started before the queue's first enqueue): from then on a
   * loss of the data those events came from is noticed.
   */
  private learnEpoch(): void {
    if (this.learning !== undefined) return;
    this.learning = this.trackRead(this.checkGeneration())
      .catch((err: unknown) => this.logger.warn({ err }, `[Monitor] Reading the queue's epoch failed: ${String(err)}`))
      .finally(() => (this.learning = undefined));
  }

  /** Keeps `read` until it settles, so that stop() can wait for it. */
  private trackRead(read: Promise<void>): Promise<void> {
    const settled = read.catch(() => undefined);
    this.reads.add(settled);
    void settled.finally(() => this.reads.delete(settled));
    return read;
  }

  /**
   * Reads recorded statuses in chunks and applies them (while `goOn()` says
   * so), then checks that Redis still has the data they were read from.
   */
  private async readAndApply(taskIds: readonly string[], goOn: () => boolean = () => true): Promise<void> {
    await this.readRecords(taskIds, goOn, (record) => this.apply(record));
    if (goOn()) await this.checkGeneration();
  }

  /** Reads the recorded statuses of `taskIds` in chunks; `onRecord` for each found; returns the ids without one. */
  private async readRecords(taskIds: readonly string[], goOn: () => boolean, onRecord: (record: StatusRecord) => void): Promise<string[]> {
    const size = this.options.readChunkSize;
    const missing: string[] = [];
    for (let i = 0; i < taskIds.length && goOn(); i += size) {
      const recorder = new StatusRecorder(await this.connection.client(), this.keys);
      const records = await recorder.getMany(taskIds.slice(i, i + size));
      for (const [id, record] of records) {
        if (record !== undefined) onRecord(record);
        else missing.push(id);
      }
    }
    return missing;
  }

  /**
   * Reads the queue's epoch and seq counter (after the records: data read
   * under an epoch that is still there was not lost) and compares them with
   * what this monitor saw. On a loss: forgets every record it knew (their
   * seqs belong to the lost data, and would hide the new data's records),
   * re-reads the followed tasks, and reports those Redis no longer has.
   */
  private async checkGeneration(): Promise<void> {
    // only the records seen before the read count against its seq counter (see EpochWatch.check)
    const seenBefore = this.watch.seen;
    const loss = this.watch.check(await readGeneration(await this.connection.client(), this.keys), seenBefore);
    if (loss === undefined) return;
    this.records.clear();
    this.lastSeq = undefined;
    const followed = [...this.followed];
    const lost = await this.readRecords(followed, () => true, (record) => this.apply(record));
    for (const id of lost) this.followed.delete(id);
    const sample = lost.slice(0, 10).join(', ') + (lost.length > 10 ? ', …' : '');
    const fields = { queue: loss.queue, before: loss.before, after: loss.after, lost: lost.length };
    if (lost.length > 0) this.logger.error(fields, `[Monitor] ${loss.reason}; ${lost.length} followed task(s) are lost: ${sample}`);
    else this.logger.warn(fields, `[Monitor] ${loss.reason}; none of the tasks this monitor follows was lost`);
    const lostSet = new Set(lost);
    for (const cancel of [...this.waitLossHandlers]) cancel(lostSet, loss);
    this.notify(this.lossListeners, { loss, taskIds: lost }, 'data-loss');
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
