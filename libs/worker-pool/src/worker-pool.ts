import {
  Consumer,
  decodeTask,
  InvalidTaskError,
  DEFAULT_STALE_AFTER_MS,
  Janitor,
  QueueClient,
  type DefaultTasks,
  type FetchedTask,
  type FetchResult,
  type Heartbeat,
  type ReconcileHandOffs,
  type TaskTypes,
  type TypeOf,
} from '@taskq/queue';
import type { TaskHandler } from './handler';
import { resolvePoolOptions, type ResolvedPoolOptions, type WorkerPoolOptions } from './options';
import { WakeSignal, type WakeCounts } from './wake-signal';
import { Claim, TaskRunner, type RunningTask, type TaskOutcome } from './task-runner';
import { RunningTasks } from './running-tasks';
import { MainThreadHeartbeat, ThreadHeartbeat, type HeartbeatSource, type RelaySettings } from './heartbeat';
import { ClaimRelay, ID_BYTES, SLOT_THREAD } from './claim-relay';
import { AckBatcher, type TakenAcks } from './ack-batcher';
import { QueuePicker, resolveQueueSelection, type QueueSelection } from './queue-selection';

/**
 * States of a pool:
 *   new ──start()──► starting ──► running ──stop()──► stopping ──► stopped
 *                       └─ failed (unreachable Redis) ─► new
 * running: the dispatch loop fetches as many tasks as there are idle
 *   sub-workers (one round trip), or waits for a wake message.
 * stopping: no fetches; in-flight tasks get the grace period, then are
 *   aborted and put back; the consumer leaves the registry.
 */
/** Round trips (acks + fetch) a pool keeps in flight at once. */
const MAX_EXCHANGES_IN_FLIGHT = 2;
/** Most tasks one round trip asks for, whatever the concurrency. */
const MAX_FETCH = 1000;
/** How long stop() still waits, after the grace period, for outcomes being recorded (acks in flight). */
const RECORDING_WAIT_MS = 2000;
/** How long a hand-off pool's reconcile waits for the barrier on its subscriber (see reconcileHandOffs), ms. */
const BARRIER_TIMEOUT_MS = 5000;
/** Without a barrier's answer, how old a hand-off must be for reconcile to return it, ms (its message is surely lost). */
const UNSETTLED_GRACE_MS = 60_000;
/** A claim still pending this long after its linger is sent by the heartbeat thread (the main thread is held). */
const RELAY_GRACE_MS = 50;
/** How often the heartbeat thread looks for such claims. */
const RELAY_CHECK_MS = 25;

/** What a pool knows after a fetch that emptied the ready list (see WakeSignal's counts). */
interface DryQueue extends WakeCounts {
  readonly until: number;
}

export const PoolState = { New: 'new', Starting: 'starting', Running: 'running', Stopping: 'stopping', Stopped: 'stopped' } as const;
export type PoolState = (typeof PoolState)[keyof typeof PoolState];

/** What a pool is doing and has met, for metrics and health checks (see WorkerPool.stats). */
export interface PoolStats {
  /** The queue served (the first, when several are). */
  readonly queue: string;
  /** Every queue served, in the order given (strict: in the order taken). */
  readonly queues: readonly string[];
  readonly consumer: string;
  readonly state: PoolState;
  readonly concurrency: number;
  /** Sub-workers not idle: running a task, or waiting for the fetch that asks for one. */
  readonly busy: number;
  readonly idle: number;
  /** Date.now() of the last heartbeat Redis took (registration included); undefined before the start. */
  readonly lastHeartbeatAt: number | undefined;
  readonly heartbeatMs: number;
  /** Whether the last fetch found the queue paused (every queue, when several are served). */
  readonly paused: boolean;
  /** The queues the last fetch of each found paused. */
  readonly pausedQueues: readonly string[];
  /** Since the pool was made: failed fetch round trips, failed heartbeats, failed tries to record an outcome, failed janitor passes. */
  readonly redisErrors: { readonly fetch: number; readonly heartbeat: number; readonly record: number; readonly janitor: number };
  /** Tasks this pool's janitor returned from dead consumers. */
  readonly janitorRecoveries: number;
}

/** What stop() did. */
export interface StopResult {
  /** Tasks that finished during the grace period. */
  readonly finished: number;
  /** Tasks aborted and returned to the queue when the grace period ran out (or on a forced stop). */
  readonly released: number;
}

/**
 * One queue a pool serves: its consumer (the pool's id, its own processing
 * list), the acks waiting for the next fetch, the runs in progress, and
 * what the last fetch said of it.
 */
interface Lane {
  readonly index: number;
  readonly consumer: Consumer;
  readonly acks: AckBatcher;
  readonly runner: TaskRunner;
  readonly running: RunningTasks;
  /** Set when a fetch emptied its ready list (see WorkerPool.send). */
  dryAt: DryQueue | undefined;
  /** Whether its last fetch found it paused. */
  pausedSeen: boolean;
  /**
   * Whether its last round trip left this pool listed as waiting for work in
   * the queue's waiters list (an enqueue then wakes it by name): only then do
   * acks linger for the next fetch (see WorkerPoolSettings.ackLingerMs).
   */
  waiting: boolean;
  /** performance.now() when a fetch (or a hand-off) last brought tasks, and the time since the one before: how fast tasks trickle in (see lingerUntil). */
  lastTasksAt: number;
  taskGapMs: number;
  /** Claims of handed-off tasks not sent yet (a hand-off pool, see WorkerPoolSettings.handOff). */
  claims: Claim[];
  /** A hand-off pool's entries in the queue's hand-off list, as far as it knows: set by each call, one less per task handed to it. */
  listed: number;
}

/** A lane's part of one round trip: its acks and the sub-workers that ask it for tasks. */
interface Part {
  readonly lane: Lane;
  readonly acks: TakenAcks | undefined;
  readonly workers: string[];
  /** Whether the pool has idle sub-workers not named in this round trip: a queue found empty then lists it as waiting for work. */
  spare: boolean;
  /** How many (a hand-off pool is listed once per idle sub-worker). */
  spareCount: number;
  /** Claims of handed-off tasks sent along (a hand-off pool). */
  readonly claims: Claim[];
}

/** The options a pool's QueueClient gets: the first queue served. */
function clientOptions<T extends TaskTypes>(options: WorkerPoolOptions<T> | undefined): WorkerPoolOptions<T> {
  return { ...options, queue: resolveQueueSelection(options ?? {}).names[0] };
}

/**
 * N concurrent sub-workers in one process, serving one queue (or several:
 * `queues`) through one Consumer per queue, all with one id (one heartbeat,
 * one subscriber, one janitor for the process). Crash-safe by default: its
 * heartbeats come from a worker thread (a CPU-bound handler cannot starve
 * them), and it runs the janitor that returns dead workers' tasks to the queue.
 *
 * ```ts
 * const pool = new WorkerPool<Tasks>({
 *   queue: 'emails',
 *   connection: 'redis://127.0.0.1:6379',
 *   concurrency: 4,
 *   handlers: { 'send-email': async (task, { signal }) => send(task.payload.to, { signal }) },
 * });
 * await pool.start();
 * process.once('SIGTERM', () => void pool.stop()); // in-flight tasks get graceMs, the rest go back
 * ```
 */
export class WorkerPool<T extends TaskTypes = DefaultTasks> extends QueueClient {
  /** The pool's consumer (of the first queue, when several are served): its id names the pool's processing list and registration. */
  readonly consumer: Consumer;
  /** The pool's consumer in each queue it serves (one id), in the order of `selection.names`. */
  readonly consumers: readonly Consumer[];
  /** The queues served, their weights and the rule (weighted or strict). */
  readonly selection: QueueSelection;
  private readonly lanes: readonly Lane[];
  private readonly picker: QueuePicker;
  private readonly janitor: Janitor | undefined;
  private state: PoolState = PoolState.New;
  private readonly options: ResolvedPoolOptions;
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly idle: string[] = [];
  private wake: WakeSignal | undefined;
  private heartbeat: HeartbeatSource | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private stopping: Promise<StopResult> | undefined;
  private forced = false;
  private needsReconcile = false;
  private forceStop: (() => void) | undefined;
  /** Round trips in flight (see send()). */
  private readonly exchanges = new Set<Promise<void>>();
  /** Failed round trips in a row, and when the next may go. */
  private failures = 0;
  private retryAt = 0;
  /** Most tasks one round trip asks for. */
  private readonly fetchShare: number;
  private lastBeatAt: number | undefined;
  private heartbeatErrors = 0;
  private fetchErrors = 0;
  private readonly outcomeListeners = new Set<(outcome: TaskOutcome) => void>();
  /** A hand-off pool's claims shared with its heartbeat thread (see ClaimRelay); undefined without a thread. */
  private relay: ClaimRelay | undefined;
  /** The claim (and its lane) in each relay slot. */
  private readonly relayed: ({ claim: Claim; lane: Lane } | undefined)[] = [];
  /** Each sub-worker name's index (the relay carries the index; the thread gets the names in that order). */
  private readonly workerIndex = new Map<string, number>();

  // no default value: the constructor's length stays 1, so a container cannot build it without its options
  constructor(options?: WorkerPoolOptions<T>) {
    super(clientOptions(options), 'taskq-worker');
    options ??= {};
    this.options = resolvePoolOptions(options);
    this.selection = resolveQueueSelection(options);
    this.picker = new QueuePicker(this.selection);
    const shared = { prefix: options.prefix, retention: options.retention, connection: this.connection, logger: this.logger };
    const first = new Consumer({ ...shared, queue: this.selection.names[0], id: options.consumerId });
    this.consumers = this.selection.names.map((queue, i) => (i === 0 ? first : new Consumer({ ...shared, queue, id: first.id })));
    this.consumer = first;
    this.lanes = this.consumers.map((consumer, index) => {
      const acks = new AckBatcher(consumer, 500, () => this.wake?.fire());
      const runner = new TaskRunner(consumer, this.handlers, this.options.backoffStrategies, this.logger, acks, undefined, this.options.progressIntervalMs, this.options.maxResultBytes);
      const lane: Lane = { index, consumer, acks, runner, running: new RunningTasks(), dryAt: undefined, pausedSeen: false, waiting: false, lastTasksAt: -Infinity, taskGapMs: Infinity, claims: [], listed: 0 };
      consumer.onDataLost((loss) => {
        const ids = lane.running.ids();
        const held = ids.length === 0 ? 'no task was running here' : `the ${ids.length} task(s) running here are unknown to Redis now: they run to their end, but their outcomes cannot be recorded (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`;
        this.logger.error({ consumer: consumer.id, queue: loss.queue, before: loss.before, after: loss.after, lost: ids.length }, `${loss.reason}; ${held}`);
      });
      return lane;
    });
    this.janitor =
      options.janitor === false ? undefined : new Janitor({ ...options.janitor, ...shared, queue: this.selection.names[0], queues: this.selection.names });
    if (this.janitor && this.options.heartbeatMs * 2 > this.janitor.staleAfterMs) {
      // one late beat would make a live worker look dead
      throw new RangeError(
        `heartbeatMs (${this.options.heartbeatMs}) must be at most half the janitor's staleAfterMs (${this.janitor.staleAfterMs}), or live workers are taken for dead ones`,
      );
    }
    const handlers: Readonly<Record<string, TaskHandler<never> | undefined>> = options.handlers ?? {};
    for (const [type, handler] of Object.entries(handlers)) if (handler) this.handlers.set(type, handler as TaskHandler);
    for (let i = 1; i <= this.options.concurrency; i++) this.idle.push(`${this.options.namePrefix}-${process.pid}-${i}`);
    this.idle.forEach((name, i) => this.workerIndex.set(name, i));
    // capped: a script's reply must stay well inside the Lua stack (8000 values, 4 per task)
    this.fetchShare = Math.min(MAX_FETCH, Math.ceil(this.options.concurrency / MAX_EXCHANGES_IN_FLIGHT));
  }

  /** Registers the handler of a task type (before or after start). */
  handle<K extends TypeOf<T>>(type: K, handler: TaskHandler<T[K]>): this {
    this.handlers.set(type, handler as TaskHandler);
    return this;
  }

  get currentState(): PoolState {
    return this.state;
  }

  /** What the pool is doing and has met (metrics, health checks). */
  stats(): PoolStats {
    const idle = this.idle.length;
    const janitor = this.janitor?.stats;
    const pausedQueues = this.lanes.filter((l) => l.pausedSeen).map((l) => l.consumer.keys.queue);
    return {
      queue: this.consumer.keys.queue,
      queues: this.selection.names,
      consumer: this.consumer.id,
      state: this.state,
      concurrency: this.options.concurrency,
      busy: this.options.concurrency - idle,
      idle,
      lastHeartbeatAt: this.lastBeatAt,
      heartbeatMs: this.options.heartbeatMs,
      paused: pausedQueues.length === this.lanes.length,
      pausedQueues,
      redisErrors: {
        fetch: this.fetchErrors,
        heartbeat: this.heartbeatErrors,
        record: this.lanes.reduce((n, l) => n + l.runner.recordErrors, 0),
        janitor: janitor?.failedPasses ?? 0,
      },
      janitorRecoveries: janitor?.recovered ?? 0,
    };
  }

  /**
   * Calls `listener` as each task's run here ends: its queue, type, the
   * status recorded (or `Released`, `Unrecorded`), the handler's duration and,
   * for a first attempt, its wait since the enqueue. For metrics; a listener
   * that throws is logged. Returns a function that removes it.
   */
  onTaskEnd(listener: (outcome: TaskOutcome) => void): () => void {
    this.outcomeListeners.add(listener);
    const observer = (outcome: TaskOutcome): void => {
      for (const l of this.outcomeListeners) l(outcome);
    };
    for (const lane of this.lanes) lane.runner.observer ??= observer;
    return () => {
      this.outcomeListeners.delete(listener);
      if (this.outcomeListeners.size === 0) for (const lane of this.lanes) lane.runner.observer = undefined;
    };
  }

  /** Ids of the tasks running now (of every queue served). */
  get inFlight(): string[] {
    return this.lanes.flatMap((l) => l.running.ids());
  }

  /** Tasks running now, in every queue served. */
  private runningCount(): number {
    return this.lanes.reduce((n, l) => n + l.running.size, 0);
  }

  /**
   * Connects (a URL or options), registers the consumer, starts heartbeats,
   * the janitor and the dispatch loop. Rejects (RedisConnectionError naming
   * the address) when Redis cannot be reached within connectTimeoutMs.
   */
  start(): Promise<void> {
    if (this.state !== PoolState.New) return Promise.reject(new Error(`pool cannot start from state ${this.state}`));
    this.state = PoolState.Starting;
    this.reopenOwnConnection(); // after a start that failed
    this.starting = this.begin();
    return this.starting;
  }

  private async begin(): Promise<void> {
    const registered: Consumer[] = [];
    try {
      for (const consumer of this.consumers) {
        await consumer.register();
        registered.push(consumer);
      }
      // A reconnect (e.g. a Redis restart) may have swallowed the reply of a
      // fetch that ran: reconcile at once rather than at the next periodic check.
      const channels = this.consumers.map((c) => ({ wake: c.keys.wake, control: c.keys.control, consumerId: c.id, ownWake: c.keys.wakeOf(c.id) }));
      this.wake = new WakeSignal(
        await this.openSubscriber(),
        channels,
        (id, index) => this.cancelLocal(id, index),
        this.logger,
        () => {
          this.needsReconcile = true;
        },
        this.options.handOff ? (index, id, body) => this.handedOff(index, id, body) : undefined,
      );
      await this.wake.start();
    } catch (err) {
      await this.wake?.stop().catch(() => undefined);
      this.wake = undefined;
      // leave no registered consumer without heartbeats behind
      for (const c of registered) await c.unregister(`consumer ${c.id} failed to start`).catch(() => undefined);
      await this.closeOwnConnection();
      this.state = PoolState.New;
      throw err;
    }
    this.lastBeatAt = Date.now(); // the registration
    this.heartbeat = this.startHeartbeat((beat, index) => {
      this.lastBeatAt = Date.now();
      beat.cancelRequested.forEach((id) => this.cancelLocal(id, index));
    });
    this.janitor?.start();
    this.state = PoolState.Running;
    const { names, weights, strict } = this.selection;
    const serving =
      names.length === 1
        ? `queue ${names[0]}`
        : strict
          ? `queues ${names.join(', ')} (strict: always the first that has ready tasks)`
          : `queues ${names.map((n, i) => `${n} (weight ${weights[i]})`).join(', ')}`;
    this.logger.info(
      { consumer: this.consumer.id, queue: names[0], queues: names, strict, concurrency: this.options.concurrency, ...(this.options.handOff ? { handOff: true } : {}) },
      `pool of ${this.options.concurrency} sub-worker(s) serving ${serving} as consumer ${this.consumer.id}${this.options.handOff ? ', taking tasks by hand-off' : ''}`,
    );
    this.loopDone = this.loop();
  }

  /**
   * Heartbeats from a thread when the connection can be opened from one, else
   * from the main thread (logged): a client a thread cannot reach (ioredis-mock,
   * a Cluster), or options a thread cannot be given (functions inside `tls`).
   */
  private startHeartbeat(onBeat: (beat: Heartbeat, index: number) => void): HeartbeatSource {
    const o = this.options;
    const onError = (): void => void this.heartbeatErrors++;
    const main = (why: string | undefined): HeartbeatSource => {
      if (why !== undefined) {
        this.logger.info(
          { consumer: this.consumer.id },
          `heartbeats from the main thread: ${why}; a handler that blocks the event loop for ${this.janitorStaleMs()} ms will be taken for a dead worker`,
        );
      }
      const source = new MainThreadHeartbeat(this.consumers, o.heartbeatMs, this.logger);
      source.start(onBeat, onError);
      return source;
    };
    if (o.heartbeat === 'main') return main(undefined);
    const target = this.connection.threadTarget();
    if (!target) return main(`a thread cannot open this connection (${this.connection.address})`);
    try {
      const relay = o.handOff && o.ackLingerMs > 0 ? new ClaimRelay(Math.max(16, 2 * o.concurrency)) : undefined;
      const thread = new ThreadHeartbeat(this.consumers, target, o.heartbeatMs, this.logger, undefined, relay && this.relaySettings(relay));
      thread.start(onBeat, onError);
      // claims go into the relay once a thread reads it
      this.relay = relay;
      return thread;
    } catch (err) {
      return main(`the heartbeat thread could not start (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /**
   * A hand-off pool's claim relay (see ClaimRelay): its claims are also
   * written to shared memory, and the heartbeat thread sends those still
   * pending RELAY_GRACE_MS past their linger (a handler holds the main
   * thread), so that a task whose handler blocks the event loop is recorded
   * InProgress while it runs. A pool has one with hand-off, lingering
   * (ackLingerMs > 0) and a heartbeat thread.
   */
  private relaySettings(relay: ClaimRelay): RelaySettings {
    return {
      buffers: relay.buffers,
      workers: [...this.workerIndex.keys()],
      afterMs: this.options.ackLingerMs + RELAY_GRACE_MS,
      checkMs: RELAY_CHECK_MS,
      idBytes: ID_BYTES,
      lanes: this.consumers.map((c) => c.claimCall()),
      answered: (answers) => this.relayAnswered(answers),
      orphaned: () => this.relayOrphaned(),
    };
  }

  /** The heartbeat thread's answers to the claims it sent: settled; a failed call's claims are pending again. */
  private relayAnswered(answers: readonly [number, string | null][]): void {
    for (const [slot, given] of answers) {
      let answer = given;
      const held = this.relayed[slot];
      if (held === undefined) continue;
      const { claim, lane } = held;
      if (answer === null) {
        // The call failed; it may have run all the same (its reply lost): the claim
        // sent again is then refused and the task is reconciled.
        this.needsReconcile = true;
        if (this.state === PoolState.Running) {
          // the main thread's next call carries it (or the thread's, later), before younger claims
          this.relay?.pending(slot);
          if (!lane.claims.includes(claim)) lane.claims.unshift(claim);
          this.wake?.fire();
          continue;
        }
        // stopping: no loop sends it any more; the run ends unrecorded and the stop (or a janitor) returns its task
        answer = '';
      }
      const at = lane.claims.indexOf(claim);
      if (at >= 0) lane.claims.splice(at, 1);
      this.relayed[slot] = undefined;
      this.relay?.release(slot);
      claim.settle(answer);
    }
  }

  /** A heartbeat thread ended: the claims it took and did not answer are pending again. */
  private relayOrphaned(): void {
    const relay = this.relay;
    if (relay === undefined) return;
    this.relayed.forEach((held, slot) => {
      if (held !== undefined && relay.stateOf(slot) === SLOT_THREAD) this.relayAnswered([[slot, null]]);
    });
  }

  /**
   * The claims a call of the main thread carries: each one it takes from the
   * relay (the heartbeat thread may have taken some; their answers come from
   * there and they leave `claims`).
   */
  private ownClaims(claims: Claim[]): Claim[] {
    const relay = this.relay;
    if (relay === undefined) return claims;
    return claims.filter((c) => c.slot === undefined || relay.take(c.slot));
  }

  /** A call of the main thread answered its claims (settled, slots freed) or failed (pending again, for the next call). */
  private claimsAnswered(lane: Lane, claims: readonly Claim[], answers: readonly string[] | undefined): void {
    for (let i = 0; i < claims.length; i++) {
      const c = claims[i];
      if (answers === undefined) {
        if (c.slot !== undefined) this.relay?.pending(c.slot);
        continue;
      }
      if (c.slot !== undefined) {
        this.relayed[c.slot] = undefined;
        this.relay?.release(c.slot);
      }
      c.settle(answers[i] ?? '');
    }
    if (answers === undefined) lane.claims.unshift(...claims);
  }

  /**
   * Which hand-offs a hand-off pool's reconcile may return. Settled ones: the tasks handed off
   * to it and not claimed, listed before a barrier on its subscriber (every
   * message sent before it was handled, each such task started or put back).
   * Those it does not run now were lost on their way; any handed off later is
   * kept by reconcile, its message may still be coming. Without the barrier's
   * answer (a subscriber connection down or not ready, or the loop kept busy
   * past the timeout) reconcile returns only hand-offs older than
   * UNSETTLED_GRACE_MS, so that a subscriber gone for good strands nothing.
   * Otherwise order, not a time, decides: a pool whose event
   * loop was blocked (a handler's long synchronous work) reconciles before it
   * reads its subscriber, and must not return the tasks waiting there.
   */
  private async reconcileHandOffs(lane: Lane): Promise<ReconcileHandOffs> {
    const handed = await lane.consumer.handedOff();
    if (handed.length === 0) return { settled: [] };
    return (await this.wake?.barrier(BARRIER_TIMEOUT_MS)) === true ? { settled: handed } : { graceMs: UNSETTLED_GRACE_MS };
  }

  private janitorStaleMs(): number {
    return this.janitor?.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  }

  private async loop(): Promise<void> {
    const wake = this.wake as WakeSignal;
    let reconciledAt = Date.now();
    while (this.state === PoolState.Running) {
      // No fetch of ours may be in flight while reconciling: a task in our
      // processing list that we are not running then came from a fetch whose
      // reply was lost.
      if (this.needsReconcile || Date.now() - reconciledAt >= this.options.reconcileMs) {
        await this.exchangesSettled();
        if (this.state !== PoolState.Running) break;
        try {
          for (const lane of this.lanes) {
            const handOffs = this.options.handOff ? await this.reconcileHandOffs(lane) : undefined;
            await lane.consumer.reconcile(lane.running.ids(), handOffs);
          }
          this.needsReconcile = false;
          reconciledAt = Date.now();
        } catch (err) {
          this.logger.warn({ err }, `reconcile failed: ${String(err)}`);
        }
      }
      const now = Date.now();
      if (this.exchanges.size >= MAX_EXCHANGES_IN_FLIGHT) {
        // nothing to do until one comes back (finished tasks' acks wait for it;
        // a wake message meanwhile is counted, see mayFetch)
        await Promise.race(this.exchanges);
        continue;
      }
      if (now < this.retryAt) {
        await wake.wait(this.retryAt - now);
        wake.clear();
        continue;
      }
      // at most a share of the sub-workers per round trip, so that two are in flight in a busy pool
      const counts = this.allot(now);
      const parts: Part[] = [];
      let lingerUntil = Infinity;
      for (const lane of this.lanes) {
        const workers = counts[lane.index] > 0 ? this.idle.splice(0, counts[lane.index]) : [];
        const lingering = workers.length === 0 ? this.lingerUntil(lane) : undefined;
        if (lingering !== undefined) lingerUntil = Math.min(lingerUntil, lingering);
        const acks: TakenAcks | undefined = lingering === undefined ? lane.acks.take() : undefined;
        const claims = lingering === undefined && lane.claims.length > 0 ? this.ownClaims(lane.claims.splice(0)) : [];
        if (workers.length > 0 && lane.dryAt) {
          // This fetch answers the wakes seen so far: the next one waits for its
          // reply (which says whether the queue is still dry), for new wakes, or
          // for the poll interval should the reply never come.
          lane.dryAt = { ...wake.countsOf(lane.index), until: now + this.options.idlePollMs };
        }
        if (acks || workers.length > 0 || claims.length > 0) parts.push({ lane, acks, workers, spare: false, spareCount: 0, claims });
      }
      for (const part of parts) {
        part.spare = this.idle.length > 0;
        part.spareCount = this.idle.length;
      }
      if (parts.length === 0) {
        await wake.wait(Math.min(this.nextWaitMs(now), Math.max(0, Math.ceil(lingerUntil - performance.now()))));
        wake.clear();
        continue;
      }
      wake.clear();
      this.send(parts);
    }
    await this.exchangesSettled();
  }

  /**
   * Until when (performance.now()) a lane's acks may wait for its next fetch,
   * undefined when they go now: lingering is on, the pool is listed as
   * waiting for work in the queue (so an enqueue wakes it by name, and the
   * fetch that follows carries the acks), tasks trickle in (the last fetch
   * that brought tasks came less than ackLingerMs after the one before: a
   * lone task's ack does not wait), and the oldest ack is younger than
   * ackLingerMs.
   */
  private lingerUntil(lane: Lane): number | undefined {
    const linger = this.options.ackLingerMs;
    if (linger === 0 || !lane.waiting || this.idle.length === 0 || !(lane.taskGapMs < linger)) return undefined;
    // a hand-off pool whose entries are used up while it has idle sub-workers lists itself again now
    if (this.options.handOff && lane.listed <= 0) return undefined;
    // a hand-off pool's claims linger as its acks do (the handlers have started; the records wait)
    const oldestAck = lane.acks.oldestQueuedAt();
    const oldestClaim = lane.claims[0]?.startedAt;
    const oldest = oldestAck === undefined ? oldestClaim : oldestClaim === undefined ? oldestAck : Math.min(oldestAck, oldestClaim);
    if (oldest === undefined || performance.now() >= oldest + linger) return undefined;
    return oldest + linger;
  }

  /**
   * How many idle sub-workers ask each queue for a task in this round trip:
   * a share of them, split among the queues worth asking (by weight, or
   * strictly in order; see QueuePicker). A queue known to be empty or paused
   * is asked again on a wake, when a delayed task is due, or after the poll
   * interval — and then for as many tasks as its wakes announced.
   */
  private allot(now: number): number[] {
    const n = Math.min(this.idle.length, this.fetchShare);
    if (n === 0) return this.lanes.map(() => 0);
    return this.picker.split(
      n,
      this.lanes.map((lane) => (this.mayFetch(lane, now) ? this.fetchSize(lane, now) : 0)),
    );
  }

  /**
   * Starts one round trip: finished tasks' acks and the next tasks for the
   * idle sub-workers, one script per queue, sent together (one round trip;
   * on a Cluster each goes to the node of its queue). Up to
   * MAX_EXCHANGES_IN_FLIGHT run at once, so Redis works on one batch while
   * this process runs the tasks of another.
   */
  private send(parts: readonly Part[]): void {
    const exchange = Promise.all(parts.map((part) => this.exchangeOf(part))).then((errors) => {
      const failed = errors.filter((e) => e !== undefined);
      if (failed.length === 0) {
        this.failures = 0;
        return;
      }
      const err: unknown = failed[0];
      this.failures++;
      this.fetchErrors++;
      this.needsReconcile = true; // the fetch may have run in Redis all the same
      const delay = Math.min(100 * 2 ** Math.min(this.failures, 5), 3000);
      this.retryAt = Date.now() + delay;
      this.logger.warn({ err }, `fetch failed (${this.failures} in a row), retrying in ${delay} ms: ${String(err)}`);
    });
    const tracked = exchange
      .catch((err: unknown) => this.logger.error({ err }, `handling a fetch reply failed: ${String(err)}`))
      .finally(() => {
        this.exchanges.delete(tracked);
        this.wake?.fire();
      });
    this.exchanges.add(tracked);
  }

  /** One queue's part of a round trip; resolves with the error when it failed (else undefined). */
  private exchangeOf({ lane, acks, workers, spare, spareCount, claims }: Part): Promise<unknown> {
    const sentUnder = (this.wake as WakeSignal).countsOf(lane.index);
    const now = performance.now();
    const options = this.options.handOff ? { handOff: { spare: spareCount, claims: claims.map((c) => c.item(now)) } } : { spare };
    return lane.consumer.exchange(acks?.items ?? [], workers, options).then(
      (fetched: FetchResult) => {
        acks?.settle(fetched.acks);
        this.claimsAnswered(lane, claims, fetched.claims ?? []);
        if (fetched.tasks.length > 0) {
          const at = performance.now();
          lane.taskGapMs = at - lane.lastTasksAt;
          lane.lastTasksAt = at;
        }
        // as fetch.lua decides whether to list this pool in the queue's waiters (KEYS[27])
        if (workers.length > 0) {
          const left = fetched.readyLeft ?? (fetched.tasks.length < workers.length ? 0 : 1);
          lane.waiting = !fetched.paused && left === 0 && (fetched.tasks.length < workers.length || spare);
        } else if (spare) {
          lane.waiting = true;
        }
        if (this.options.handOff) lane.listed = lane.waiting ? spareCount + workers.length - fetched.tasks.length : 0;
        for (const task of fetched.tasks) {
          try {
            this.dispatch(lane, task);
          } catch (err) {
            // not expected (a run never throws); the task stays in the processing list for reconcile
            this.logger.error({ err, taskId: task.id }, `could not start task ${task.id}: ${String(err)}`);
            this.idle.push(task.worker);
            this.needsReconcile = true;
          }
        }
        // sub-workers the queue had no task for are idle again
        for (let i = fetched.tasks.length; i < workers.length; i++) this.idle.push(workers[i]);
        if (workers.length > 0) {
          this.notePaused(lane, fetched.paused);
          // a paused queue is as good as empty: wait for a wake (resume sends one) or the poll interval
          const emptied = fetched.paused || (fetched.readyLeft === undefined ? fetched.tasks.length < workers.length : fetched.readyLeft === 0);
          if (emptied) {
            // The queue ran dry: fetch again on a wake message (for as many
            // tasks as the wakes announce), when the earliest delayed task is
            // due (plus a little jitter, so idle pools do not all ask at the
            // same instant), or after the poll interval.
            const due = fetched.nextDueInMs;
            const untilDue = due === undefined ? Infinity : due + Math.floor(Math.random() * 20);
            const until = Date.now() + Math.min(this.options.idlePollMs, untilDue);
            // A fetch sent later answered later wakes (an older reply may come
            // after it was sent): keep what it answered; its own reply decides.
            const later = lane.dryAt;
            lane.dryAt = later !== undefined && later.wakes > sentUnder.wakes ? { ...later, until: Math.min(later.until, until) } : { ...sentUnder, until };
          } else {
            lane.dryAt = undefined;
          }
        }
        return undefined;
      },
      (err: unknown) => {
        acks?.fail(err); // each task retries its own ack
        this.claimsAnswered(lane, claims, undefined); // sent again with the next call (a claim that ran is refused then: the task is reconciled)
        lane.waiting = false;
        this.idle.push(...workers);
        if (workers.length > 0) lane.dryAt = undefined; // not known to be dry: the retry asks for a full share
        return err;
      },
    );
  }

  /** Logs when a queue turns out paused, and when it hands out tasks again. */
  private notePaused(lane: Lane, paused: boolean): void {
    if (paused === lane.pausedSeen) return;
    lane.pausedSeen = paused;
    const queue = lane.consumer.keys.queue;
    if (paused) this.logger.info({ queue }, `queue ${queue} is paused: taking no task from it until it is resumed (running tasks finish)`);
    else this.logger.info({ queue }, `queue ${queue} is no longer paused: taking tasks again`);
  }

  /** Whether to ask a queue for tasks now: not while it is known to be dry (no wake, not yet due). */
  private mayFetch(lane: Lane, now: number): boolean {
    const dry = lane.dryAt;
    return dry === undefined || dry.wakes !== (this.wake as WakeSignal).wakesOf(lane.index) || now >= dry.until;
  }

  /**
   * How many tasks to ask for: a share of the sub-workers, but after the
   * queue ran dry only as many as the wake messages since announced (at
   * least one), so that a trickle of tasks does not send every idle
   * sub-worker's name to Redis for each one. A wake without a count, a due
   * time or the poll interval asks for the full share again.
   */
  private fetchSize(lane: Lane, now: number): number {
    const dry = lane.dryAt;
    const counts = (this.wake as WakeSignal).countsOf(lane.index);
    if (dry === undefined || now >= dry.until || counts.unknowns !== dry.unknowns) return this.fetchShare;
    return Math.min(this.fetchShare, Math.max(1, counts.announced - dry.announced));
  }

  /** How long the loop may sleep when it has nothing to send: until a dry queue is worth a look (idle sub-workers), else the poll interval. */
  private nextWaitMs(now: number): number {
    let wait = this.options.idlePollMs;
    if (this.idle.length === 0) return wait;
    for (const { dryAt } of this.lanes) if (dryAt !== undefined && dryAt.until > now) wait = Math.min(wait, dryAt.until - now);
    return wait;
  }

  private async exchangesSettled(): Promise<void> {
    while (this.exchanges.size > 0) await Promise.all([...this.exchanges]);
  }

  /** A cancel request for a task this process may hold in queue `index` (control channel or heartbeat). */
  private cancelLocal(taskId: string, index: number): void {
    const runs = this.lanes[index]?.running.find(taskId) ?? [];
    if (runs.length === 0) return;
    this.logger.info({ taskId }, `cancel requested for ${taskId}: aborting its handler`);
    for (const run of runs) run.cancel();
  }

  /**
   * A task handed off to this pool (see WorkerPoolSettings.handOff): it
   * starts at once on an idle sub-worker, and its claim goes with the next
   * call. A stopping pool, or one with no idle sub-worker (its listing was
   * one behind), puts it back.
   */
  private handedOff(index: number, id: string, body: string): void {
    const lane = this.lanes[index];
    if (lane === undefined) return;
    const worker = this.state === PoolState.Running ? this.idle.shift() : undefined;
    if (worker === undefined) {
      const why = this.state === PoolState.Running ? 'no idle sub-worker' : 'stopping';
      this.logger.info({ taskId: id, queue: lane.consumer.keys.queue }, `task ${id} was handed off to this pool with ${why}: putting it back in the queue`);
      lane.consumer.release([id], `handed off to worker ${lane.consumer.id}, which put it back (${why})`).catch((err: unknown) => {
        this.logger.warn({ err, taskId: id }, `could not put back task ${id} handed off to this pool (${String(err)}); reconcile or the janitor returns it`);
        this.needsReconcile = true;
      });
      return;
    }
    let task: FetchedTask['task'];
    let invalid: InvalidTaskError | undefined;
    try {
      task = decodeTask(id, body);
    } catch (err) {
      invalid = err instanceof InvalidTaskError ? err : new InvalidTaskError(`task ${id}: ${String(err)}`, { cause: err });
    }
    const at = performance.now();
    lane.taskGapMs = at - lane.lastTasksAt;
    lane.lastTasksAt = at;
    lane.listed--;
    const claim = new Claim(id, worker);
    lane.claims.push(claim);
    // a claim that does not linger is sent by the loop in this turn's microtasks: the handler starts after them
    claim.sentFirst = this.lingerUntil(lane) === undefined;
    // Shared with the heartbeat thread, which sends it if the main thread is held past its linger:
    // one that lingers, and one that goes at once too (the loop may be busy this turn: a
    // reconcile, two calls in flight, a retry's backoff; then the handler starts and may block first)
    if (this.relay !== undefined) {
      const slot = this.relay.put(index, this.workerIndex.get(worker) ?? 0, id, performance.timeOrigin + performance.now());
      if (slot !== undefined) {
        claim.slot = slot;
        this.relayed[slot] = { claim, lane };
      }
    }
    try {
      this.dispatch(lane, { id, attempt: 1, token: '', worker, task, invalid, epoch: lane.consumer.epoch }, claim);
    } catch (err) {
      // not expected (a run never throws); its claim goes, and reconcile returns the task
      this.logger.error({ err, taskId: id }, `could not start task ${id}: ${String(err)}`);
      this.idle.push(worker);
      this.needsReconcile = true;
    }
    this.wake?.fire();
  }

  private dispatch(lane: Lane, fetched: FetchedTask, claim?: Claim): void {
    const running = lane.runner.run(fetched, claim);
    const slot = lane.running.add(running);
    // the sub-worker is free as soon as its handler is over; the ack may still be on its way
    running.onHandlerDone(() => {
      this.idle.push(fetched.worker);
      this.wake?.fire();
    });
    running.onDone(() => lane.running.remove(slot, running));
  }

  /**
   * Stops taking tasks and lets in-flight tasks finish within `graceMs`
   * (default: the pool's graceMs); then aborts the rest, puts them back in
   * the queue and leaves the consumer registry. Calling it again while it
   * runs (a second signal) ends the grace period at once.
   */
  stop(graceMs: number = this.options.graceMs): Promise<StopResult> {
    if (this.stopping) {
      if (graceMs === 0) {
        this.forced = true;
        this.forceStop?.();
      }
      return this.stopping;
    }
    this.stopping = this.shutdown(graceMs);
    return this.stopping;
  }

  /** Waits until every run is done, or `ms` passed. */
  private async settledWithin(runs: readonly { readonly done: Promise<void> }[], ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(runs.map((r) => r.done)), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  private async shutdown(graceMs: number): Promise<StopResult> {
    // a stop() during start() waits for the start to end (either way); a
    // running pool stops taking tasks at once, before this call returns
    if (this.state === PoolState.Starting) await this.starting?.catch(() => undefined);
    const wasRunning = this.state === PoolState.Running;
    this.state = PoolState.Stopping;
    this.wake?.fire();
    await this.loopDone;
    // a hand-off pool leaves the hand-off list (no task is handed to it any more) and sends its last claims
    if (this.options.handOff && wasRunning) await Promise.all(this.lanes.map((lane) => this.lastClaims(lane)));
    // no loop to carry acks any more: they go on their own
    for (const lane of this.lanes) lane.acks.sendDirectly();
    const inFlight = this.runningCount();
    if (inFlight > 0) {
      this.logger.info({ inFlight, graceMs }, `stopping: waiting up to ${graceMs} ms for ${inFlight} task(s)`);
    }
    const allDone = Promise.all(this.lanes.flatMap((l) => l.running.values().map((r) => r.done)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allDone,
      new Promise<void>((resolve) => {
        this.forceStop = resolve;
        timer = setTimeout(resolve, this.forced ? 0 : graceMs);
      }),
    ]);
    clearTimeout(timer);
    // A run whose handler is over only waits for its outcome to be recorded:
    // putting it back would revoke the token its ack (or fail) carries and
    // run a finished task again. It gets a little longer, even on a forced stop.
    let released = 0;
    let aborted = 0;
    const recording: { lane: Lane; runs: RunningTask[] }[] = [];
    for (const lane of this.lanes) {
      const runs = lane.running.values();
      recording.push({ lane, runs: runs.filter((r) => r.recording) });
      const left = runs.filter((r) => !r.recording);
      aborted += left.length;
      for (const r of left) r.abort(new Error('worker stopping: task aborted and returned to the queue'));
      if (left.length > 0) released += await this.releaseOnStop(lane, left);
    }
    const stillRecording = recording.flatMap((r) => r.runs);
    if (stillRecording.length > 0) await this.settledWithin(stillRecording, RECORDING_WAIT_MS);
    // Outcomes Redis still did not take (it refuses writes, or is unreachable):
    // stop holding them, and say so. Their tasks go back to the queue and will
    // run again (a late ack carries a token the release revoked).
    for (const { lane, runs } of recording) {
      const unrecorded = runs.filter((r) => r.recording);
      if (unrecorded.length === 0) continue;
      lane.runner.giveUpRecording();
      await this.settledWithin(unrecorded, RECORDING_WAIT_MS);
      const ids = unrecorded.map((r) => r.id);
      const consumer = lane.consumer;
      const reason = `worker ${consumer.id} stopped before Redis took the outcome of the finished task; it will run again`;
      try {
        const back = await consumer.release(ids, reason);
        this.logger.error({ ids, released: back }, `stopping: the outcome of ${ids.length} finished task(s) could not be recorded; ${back} put back in the queue to run again: ${ids.join(', ')}`);
      } catch (err) {
        this.logger.error(
          { ids, err },
          `stopping: the outcome of ${ids.length} finished task(s) could not be recorded, nor could they be put back (${String(err)}); they stay in consumer ${consumer.id}'s processing list until a janitor returns them to the queue: ${ids.join(', ')}`,
        );
      }
    }
    // every run is over: no progress to send (a flush in flight lands or is refused before the connection closes)
    await Promise.all(this.lanes.map((l) => l.runner.progress.stop()));
    await this.heartbeat?.stop();
    if (wasRunning) {
      for (const consumer of this.consumers) {
        try {
          await consumer.unregister();
        } catch (err) {
          // a janitor returns what it holds once its heartbeats are stale
          this.logger.error({ err, queue: consumer.keys.queue }, `stopping: consumer ${consumer.id} could not leave the registry: ${String(err)}`);
        }
      }
    }
    await this.wake?.stop();
    await this.janitor?.stop();
    await this.closeOwnConnection();
    this.state = PoolState.Stopped;
    return { finished: inFlight - aborted, released };
  }

  /** A stopping hand-off pool's last call: its claims, and no idle sub-worker (so it is handed nothing more). */
  private async lastClaims(lane: Lane): Promise<void> {
    // claims the heartbeat thread took are answered from there
    const claims = this.ownClaims(lane.claims.splice(0));
    const now = performance.now();
    try {
      const reply = await lane.consumer.exchange([], [], { handOff: { spare: 0, claims: claims.map((c) => c.item(now)) } });
      this.claimsAnswered(lane, claims, reply.claims ?? []);
    } catch (err) {
      // unanswered: those runs end unrecorded ('' each), and the unregister (or a janitor) returns their tasks
      this.claimsAnswered(lane, claims, []);
      this.logger.warn({ err, queue: lane.consumer.keys.queue }, `stopping: the last claims could not be sent (${String(err)})`);
    }
  }

  /** Puts a queue's unfinished runs back at stop; returns how many went back. */
  private async releaseOnStop(lane: Lane, left: readonly RunningTask[]): Promise<number> {
    const consumer = lane.consumer;
    try {
      const released = await consumer.release(
        left.map((r) => r.id),
        `worker ${consumer.id} stopped before the task finished`,
      );
      this.logger.warn({ released, queue: consumer.keys.queue }, `put ${released} unfinished task(s) back in the queue`);
      return released;
    } catch (err) {
      this.logger.error(
        { err, ids: left.map((r) => r.id) },
        `stopping: ${left.length} unfinished task(s) could not be put back (${String(err)}); they stay in consumer ${consumer.id}'s processing list until a janitor returns them to the queue`,
      );
      return 0;
    }
  }
}

