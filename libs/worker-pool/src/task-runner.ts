import type { Logger } from '@taskq/recorder';
import { backoffDelay, encodeProgress, encodeResult, DEFAULT_MAX_RESULT_BYTES, type BackoffStrategy, type ClaimItem, type Consumer, type FailInput, type FetchedTask, type ProgressValue, type Task } from '@taskq/queue';
import type { TaskContext, TaskHandler } from './handler';
import { attemptRecord, failureReason } from './failure';
import { UnrecoverableError } from './errors/unrecoverable-error';
import { TaskTimeoutError } from './errors/task-timeout-error';
import { TaskCancelledError } from './errors/task-cancelled-error';
import { setLongTimeout } from './long-timeout';
import type { AckBatcher } from './ack-batcher';
import { LazyAbort, LazyLogger } from './lazy';
import { ProgressBatcher } from './progress-batcher';

/** A task a sub-worker is running. */
export interface RunningTask {
  readonly id: string;
  /** Settles when the task is finished and its outcome recorded (never rejects). */
  readonly done: Promise<void>;
  /** Settles when the handler is over (its outcome may still be being recorded): its sub-worker is free. */
  readonly handlerDone: Promise<void>;
  /** Calls `callback` once, when the handler is over (at once if it is). */
  onHandlerDone(callback: () => void): void;
  /** Calls `callback` once, when the task is finished and its outcome recorded (at once if it is). */
  onDone(callback: () => void): void;
  /** True while the run's outcome (Done, a failure or a reject) is being recorded: its handler is over. */
  readonly recording: boolean;
  /** Stop for shutdown: the signal fires; no outcome is recorded (the pool puts the task back). */
  abort(reason: Error): void;
  /** Stop because the task was cancelled: the signal fires and the task is recorded Cancelled. */
  cancel(): void;
}

/** Default of WorkerPoolSettings.progressIntervalMs. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 500;

/** A failed recording is logged on its first retry and then every this many. */
const RECORD_RETRY_LOG_EVERY = 10;
/** Longest wait between two tries of recording an outcome, in first waits (2 s by default). */
const RECORD_RETRY_MAX_FACTOR = 20;

/** Resolves after `ms`, or at once when `signal` fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Why an attempt ended, decided once, in the order things happened. */
type Ending = { kind: 'ok'; value?: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout'; error: TaskTimeoutError } | { kind: 'cancel' } | { kind: 'abort' } | { kind: 'unclaimed' };

/** A handler that returned undefined: no result. */
const OK: Ending = { kind: 'ok' };

/** How a task's run in this pool ended, for metrics (see WorkerPool.onTaskEnd). */
export interface TaskOutcome {
  readonly queue: string;
  readonly id: string;
  /** The task's type; undefined when it could not be decoded. */
  readonly type: string | undefined;
  /**
   * What was recorded: `Done`, `Retrying`, `Dead`, `Failed` or `Cancelled`;
   * `Released` when it was aborted and put back (a stopping pool); `Unrecorded`
   * when Redis refused the outcome (the task was taken back) or lost it;
   * `Unclaimed` when a task handed off to the pool (its `handOff`) was taken
   * back before its claim (released, recovered), so its handler was aborted.
   */
  readonly status: string;
  /** The attempt this run was. */
  readonly attempt: number;
  /** How long the handler ran, ms (0 when it never ran: no handler, not decodable). */
  readonly durationMs: number;
  /** For a first attempt: ms from the enqueue (Redis time; a delay included) to the handler's start. */
  readonly waitMs: number | undefined;
}
/** Why a finished task's outcome is not recorded when the consumer's epoch moved on (the consumer logged the loss once). */
const LOST = "Redis lost the queue's data after the task was fetched (see the error logged when it was found)";

/** The context a handler gets; the AbortSignal and the progress function are made only if the handler looks at them. */
class HandlerContext implements TaskContext {
  private reporter: ((value: ProgressValue, message?: string) => void) | undefined;

  constructor(
    private readonly run: TaskRun,
    private readonly controller: LazyAbort,
    readonly attempt: number,
    readonly worker: string,
    readonly logger: Logger,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get progress(): (value: ProgressValue, message?: string) => void {
    // bound once: a handler may destructure it
    return (this.reporter ??= (value, message) => this.run.reportProgress(encodeProgress(value, message)));
  }
}

/** A settle-once event: callbacks (usually one), and a promise made only if somebody asks for one. */
class Latch {
  private fired = false;
  private first: (() => void) | undefined;
  private more: (() => void)[] | undefined;
  private promise: Promise<void> | undefined;
  private resolve: (() => void) | undefined;

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.resolve?.();
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.();
    if (more) for (const callback of more) callback();
  }

  then(callback: () => void): void {
    if (this.fired) callback();
    else if (this.first === undefined) this.first = callback;
    else (this.more ??= []).push(callback);
  }

  get isFired(): boolean {
    return this.fired;
  }

  get settled(): Promise<void> {
    if (this.fired) return Promise.resolve();
    return (this.promise ??= new Promise<void>((resolve) => (this.resolve = resolve)));
  }
}

/**
 * A hand-off pool's claim of a task handed to it (see WorkerPoolSettings.handOff):
 * its handler starts before the claim is answered; the run records nothing
 * until it is. The answer is the task's fencing token (it is the pool's,
 * InProgress), `c` (its cancel came first: recorded Cancelled) or `''`
 * (taken back meanwhile: the handler is aborted, nothing is recorded).
 */
export class Claim {
  /** undefined until answered. */
  answer: string | undefined;
  /** performance.now() when the handler started (the claim carries the time since). */
  readonly startedAt = performance.now();
  /**
   * Its call goes at once (it does not linger): the handler starts after the
   * microtasks that write that call to Redis, so that a handler that blocks
   * the event loop (synchronous, CPU-bound work) is recorded InProgress while
   * it runs, as a fetched task is, not only once it yields.
   */
  sentFirst = false;
  /** Its slot in the pool's claim relay (the heartbeat thread sends it if the main thread is held), if it has one. */
  slot: number | undefined;
  private readonly answered = new Latch();

  constructor(
    readonly id: string,
    readonly worker: string,
  ) {}

  /** The answer of the call that carried it (the first answer stands). */
  settle(answer: string): void {
    if (this.answer !== undefined) return;
    this.answer = answer;
    this.answered.fire();
  }

  /** Calls `callback` once answered (at once if it is). Not named `then`: a Claim is no thenable. */
  onAnswer(callback: () => void): void {
    this.answered.then(callback);
  }

  /** What a call carries for it (see Consumer.exchange), `now` being performance.now() at the send. */
  item(now: number): ClaimItem {
    return { id: this.id, worker: this.worker, ageMs: now - this.startedAt };
  }

  /** Whether the task is this pool's (answered with a token). */
  get held(): boolean {
    return this.answer !== undefined && this.answer !== '' && this.answer !== 'c';
  }
}

/**
 * One run of a fetched task. The common path (handler returns or resolves,
 * ack) uses callbacks rather than a chain of promises: a busy pool runs tens
 * of thousands of tasks a second and every allocation per task shows.
 */
class TaskRun implements RunningTask {
  private ending: Ending | undefined;
  private readonly controller = new LazyAbort();
  private readonly log: LazyLogger;
  private readonly handlerOver = new Latch();
  private readonly finished = new Latch();
  private started = 0;
  /** Date.now() at the start, for the queue wait of a first attempt (only with an observer). */
  private startedAt = 0;
  private clearTimer: (() => void) | undefined;
  private outcomeSent = false;
  /** Whether the handler reported progress (then the batcher forgets the task when it ends). */
  private reported = false;
  /** Progress reported before the claim was answered: sent once it is. */
  private earlyProgress: string | undefined;
  /** A refused claim's end was logged and observed (once). */
  private unclaimedNoted = false;
  /** cancel() was called (a cancel request for this task reached the pool). */
  private cancelHeard = false;

  constructor(
    private readonly runner: TaskRunner,
    /** Replaced once a claim is answered (its token and attempt). */
    private fetched: FetchedTask,
    /** A handed-off task's claim: nothing is recorded until it is answered. */
    private readonly claim?: Claim,
  ) {
    this.log = new LazyLogger(runner.logger, this);
    claim?.onAnswer(() => this.claimAnswered());
  }

  /** The claim's answer: the task is ours (its token), or it is not and the handler stops. */
  private claimAnswered(): void {
    const claim = this.claim as Claim;
    const answer = claim.answer as string;
    if (claim.held) {
      const attempt = Number(answer.slice(answer.indexOf(':') + 1));
      this.fetched = { ...this.fetched, token: answer, attempt: attempt > 0 ? attempt : this.fetched.attempt };
      if (this.earlyProgress !== undefined && !this.ending) this.runner.progress.report({ id: this.fetched.id, token: answer, body: this.earlyProgress });
      this.earlyProgress = undefined;
      return;
    }
    if (this.ending) return; // its recording waits for this answer (see whenClaimed)
    this.end({ kind: 'unclaimed' });
    this.controller.abort(answer === 'c' ? new TaskCancelledError(this.fetched.id) : new Error(`task ${this.fetched.id} was taken back before this worker claimed it`));
  }

  /**
   * Runs `record` once the task is known to be this pool's: at once for a
   * fetched task; for a handed-off one when its claim is answered, and not
   * at all when the claim is refused (then the run ends unrecorded).
   */
  private whenClaimed(record: () => void): void {
    const claim = this.claim;
    if (claim === undefined) return record();
    if (claim.answer === undefined) {
      this.outcomeSent = true; // waits for its claim, as for an ack: a stop gives it time
      claim.onAnswer(() => this.whenClaimed(record));
      return;
    }
    if (claim.held) return record();
    // refused: the run ends here, once (a reject decided at the start waits here too)
    if (this.unclaimedNoted) return;
    this.unclaimedNoted = true;
    const id = this.fetched.id;
    this.outcomeSent = true;
    // 'c': cancelled first (recorded by the claim); a cancel heard on the control channel: cancel.lua took the task back and recorded it
    if (claim.answer === 'c' || this.cancelHeard) {
      this.log.warn({ durationMs: this.durationMs(), status: 'Cancelled' }, `CANCELLED ${id} after ${this.seconds()} s (cancelled before its claim)`);
      this.observe('Cancelled');
    } else {
      this.log.warn({ durationMs: this.durationMs() }, `UNCLAIMED ${id} after ${this.seconds()} s: taken back before this worker claimed it (released or recovered); its handler was aborted, nothing recorded`);
      this.observe('Unclaimed');
    }
    this.handlerOver.fire();
    this.finished.fire();
  }

  logBindings(): Record<string, unknown> {
    const { id, attempt, worker } = this.fetched;
    return { taskId: id, queue: this.runner.queue, attempt, worker };
  }

  get id(): string {
    return this.fetched.id;
  }

  get done(): Promise<void> {
    return this.finished.settled;
  }

  get handlerDone(): Promise<void> {
    return this.handlerOver.settled;
  }

  onHandlerDone(callback: () => void): void {
    this.handlerOver.then(callback);
  }

  onDone(callback: () => void): void {
    this.finished.then(callback);
  }

  get recording(): boolean {
    return this.outcomeSent && !this.finished.isFired;
  }

  abort(reason: Error): void {
    this.end({ kind: 'abort' });
    this.controller.abort(reason);
  }

  cancel(): void {
    this.cancelHeard = true;
    this.end({ kind: 'cancel' });
    this.controller.abort(new TaskCancelledError(this.fetched.id));
  }

  start(): void {
    const { id } = this.fetched;
    const task = this.fetched.task;
    if (!task) {
      const reason = this.fetched.invalid?.message ?? `task ${id} could not be decoded`;
      this.log.error({ reason }, `REJECT ${id}: ${reason}`);
      this.whenClaimed(() => this.settle(this.runner.fail(this.fetched, { mode: 'reject', reason }).then((status) => this.observe(status))));
      return;
    }
    const handler = this.runner.handlers.get(task.type);
    if (!handler) {
      const reason = `no handler for task type ${JSON.stringify(task.type)}`;
      this.log.error({ reason, type: task.type }, `REJECT ${id}: ${reason}`);
      this.whenClaimed(() => this.settle(this.runner.fail(this.fetched, { mode: 'reject', reason }).then((status) => this.observe(status))));
      return;
    }
    this.started = performance.now();
    if (this.runner.observer) this.startedAt = Date.now();
    if (this.log.isLevelEnabled('info')) this.log.info(this.claim ? { type: task.type, handOff: true } : { type: task.type }, `START ${id}`);
    if (task.timeoutMs !== undefined) {
      const error = new TaskTimeoutError(task.timeoutMs);
      // not setTimeout: a timeoutMs beyond ~24.8 days would fire after 1 ms
      this.clearTimer = setLongTimeout(() => {
        this.end({ kind: 'timeout', error });
        this.controller.abort(error);
      }, task.timeoutMs);
    }
    if (this.claim?.sentFirst) setImmediate(() => this.invoke(handler, task));
    else queueMicrotask(() => this.invoke(handler, task));
  }

  private invoke(handler: TaskHandler, task: Task): void {
    if (this.ending) return; // stopped before it started
    let result: unknown;
    try {
      result = handler(task, new HandlerContext(this, this.controller, this.fetched.attempt, this.fetched.worker, this.log));
    } catch (error) {
      this.end({ kind: 'error', error });
      return;
    }
    if ((typeof result === 'object' && result !== null) || typeof result === 'function') {
      // maybe a thenable: Promise.resolve adopts it (and turns a throwing `then` into a rejection)
      Promise.resolve(result).then(
        (value: unknown) => this.end(value === undefined ? OK : { kind: 'ok', value }),
        (error: unknown) => this.end({ kind: 'error', error }),
      );
    } else {
      this.end(result === undefined ? OK : { kind: 'ok', value: result });
    }
  }

  /** The handler's progress (checked and encoded): to the batcher, while the attempt has not ended. */
  reportProgress(body: string): void {
    if (this.ending) return;
    this.reported = true;
    if (this.claim !== undefined && !this.claim.held) {
      this.earlyProgress = body; // the latest wins, as in the batcher
      return;
    }
    this.runner.progress.report({ id: this.fetched.id, token: this.fetched.token, body });
  }

  /** Decides how the attempt ended (the first call wins) and records it; a timeout, cancel or abort ends it even if the handler ignores its signal. */
  private end(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending;
    this.clearTimer?.();
    // a value not sent yet is dropped: the outcome says more (and the script that records it drops the stored one)
    if (this.reported) this.runner.progress.forget(this.fetched.id);
    this.earlyProgress = undefined;
    this.handlerOver.fire();
    if (ending.kind === 'abort' || this.claim === undefined) this.record(ending);
    else this.whenClaimed(() => this.record(ending));
  }

  /** Records how the attempt ended (a handed-off task's once its claim is answered). */
  private record(ending: Ending): void {
    const { id, worker, token } = this.fetched;
    switch (ending.kind) {
      case 'unclaimed':
        return; // whenClaimed ended the run
      case 'abort':
        this.log.warn({ durationMs: this.durationMs() }, `ABORTED ${id} after ${this.seconds()} s (returned to the queue)`);
        this.observe('Released');
        this.finished.fire();
        return;
      case 'ok': {
        let result: string | undefined;
        if (ending.value !== undefined) {
          try {
            result = encodeResult(ending.value, this.runner.maxResultBytes);
          } catch (err) {
            // a result that cannot be stored: the task cannot end Done, and running it again would return the same
            const reason = err instanceof Error ? err.message : 'result is not JSON';
            this.log.error({ durationMs: this.durationMs(), reason }, `FAILED ${id} (${this.seconds()} s): ${reason}`);
            this.settle(this.runner.fail(this.fetched, { mode: 'reject', reason }).then((status) => this.observe(status)));
            return;
          }
        }
        this.outcomeSent = true;
        if (this.runner.lost(this.fetched)) {
          this.acked(false);
          return;
        }
        this.runner.acks.ackWith(
          id,
          worker,
          token,
          (err, ok) => {
            if (err === undefined) this.acked(ok);
            else this.settle(this.runner.recordAfterFailure(err, () => this.runner.acks.ack(id, worker, token, result)).then((late) => this.acked(late)));
          },
          result,
        );
        return;
      }
      case 'cancel':
        this.settle(
          this.runner.fail(this.fetched, { mode: 'cancel', reason: 'cancelled while running' }).then((status) => {
            this.log.warn({ durationMs: this.durationMs(), status }, `CANCELLED ${id} after ${this.seconds()} s`);
            this.observe(status);
          }),
        );
        return;
      case 'timeout':
      case 'error':
        this.settle(
          this.runner.failed(this.fetched, this.fetched.task as Task, ending.error, this.durationMs(), this.seconds(), this.log).then((status) => this.observe(status)),
        );
    }
  }

  private acked(ok: boolean): void {
    const id = this.fetched.id;
    if (this.runner.observer) this.observe(ok ? 'Done' : undefined);
    if (!ok && this.runner.lost(this.fetched)) {
      this.log.info({ durationMs: this.durationMs(), acked: ok }, `FINISHED ${id} (${this.seconds()} s), not recorded: ${LOST}`);
    } else if (!ok) this.log.warn({ durationMs: this.durationMs(), acked: ok }, `FINISHED ${id} (${this.seconds()} s), but its ack was refused (the task had been taken back)`);
    else if (this.log.isLevelEnabled('info')) this.log.info({ durationMs: this.durationMs(), acked: ok }, `DONE ${id} (${this.seconds()} s)`);
    this.finished.fire();
  }

  /** Tells the runner's observer how the run ended (undefined: not recorded). */
  private observe(status: string | undefined): void {
    const observer = this.runner.observer;
    if (!observer) return;
    const task = this.fetched.task;
    const ran = this.started > 0;
    try {
      observer({
        queue: this.runner.queue,
        id: this.fetched.id,
        type: task?.type,
        status: status ?? 'Unrecorded',
        attempt: this.fetched.attempt,
        durationMs: ran ? performance.now() - this.started : 0,
        waitMs: ran && task && this.fetched.attempt === 1 ? Math.max(0, this.startedAt - task.enqueuedAt) : undefined,
      });
    } catch (err) {
      this.log.warn({ err }, `a task observer threw: ${String(err)}`);
    }
  }

  /** Finishes the run when `outcome` (its recording) settles; a failure to record is logged, never thrown. */
  private settle(outcome: Promise<unknown>): void {
    this.outcomeSent = true;
    outcome
      .catch((err: unknown) => {
        this.log.error({ err }, `task ${this.fetched.id}: outcome could not be recorded: ${String(err)}`);
      })
      .finally(() => {
        this.handlerOver.fire();
        this.finished.fire();
      });
  }

  private durationMs(): number {
    return Math.round(performance.now() - this.started);
  }

  private seconds(): string {
    return ((performance.now() - this.started) / 1000).toFixed(2);
  }
}

/**
 * Runs fetched tasks: decodes each, finds its handler, runs it with an
 * AbortSignal (fired by a timeout, a cancel or a forced shutdown), and
 * records the outcome under the fetch's fencing token: Done, Retrying after
 * the task's backoff, Dead after its last attempt, Failed when it cannot run
 * at all, Cancelled. Nothing a handler does can crash the worker.
 */
export class TaskRunner {
  readonly queue: string;
  private readonly recordingGivenUp = new AbortController();

  constructor(
    private readonly consumer: Consumer,
    readonly handlers: ReadonlyMap<string, TaskHandler>,
    private readonly strategies: ReadonlyMap<string, BackoffStrategy>,
    readonly logger: Logger,
    readonly acks: AckBatcher,
    /** First wait before a recording is tried again (doubling up to 2 s), ms. */
    private readonly retryBaseMs = 100,
    /** Shortest time between two progress writes of a task (and between two flushes of the queue's progress), ms. */
    progressIntervalMs = DEFAULT_PROGRESS_INTERVAL_MS,
    /** Largest result stored (bytes of its JSON text); a larger one makes the task Failed. */
    readonly maxResultBytes = DEFAULT_MAX_RESULT_BYTES,
  ) {
    this.queue = consumer.keys.queue;
    this.progress = new ProgressBatcher((items) => consumer.reportProgress(items), progressIntervalMs, logger);
  }

  /** The progress handlers report, throttled and batched (see ProgressBatcher). */
  readonly progress: ProgressBatcher;

  /** Told how each run ended (metrics); none by default. */
  observer: ((outcome: TaskOutcome) => void) | undefined;
  /** Tries to record an outcome that Redis refused or did not answer (each retry counts). */
  recordErrors = 0;

  /** Starts a run; a handed-off task comes with its `claim` (nothing is recorded until it is answered). */
  run(fetched: FetchedTask, claim?: Claim): RunningTask {
    const run = new TaskRun(this, fetched, claim);
    run.start();
    return run;
  }

  /** A failed attempt: retry after the backoff, or dead letter after the last attempt. */
  async failed(fetched: FetchedTask, task: Task, error: unknown, durationMs: number, seconds: string, log: Logger): Promise<string | undefined> {
    const reason = failureReason(error);
    let input: FailInput;
    try {
      input = this.failInput(fetched, task, error, reason);
    } catch (inspectError) {
      // whatever was thrown defeats even looking at it (a hostile Proxy): end the task rather than leave it InProgress
      input = { mode: 'dead', reason: `${reason}; the thrown value could not be inspected: ${failureReason(inspectError)}` };
    }
    const status = await this.fail(fetched, input);
    const next = input.mode === 'retry' && status === 'Retrying' ? `, retry in ${input.delayMs} ms` : '';
    if (status === undefined && this.lost(fetched)) log.info({ durationMs, reason }, `FAILED ${fetched.id} (${seconds} s): ${reason}; not recorded: ${LOST}`);
    else log.warn({ durationMs, reason, status }, `FAILED ${fetched.id} (${seconds} s): ${reason} -> ${status ?? 'refused'}${next}`);
    return status;
  }

  private failInput(fetched: FetchedTask, task: Task, error: unknown, reason: string): FailInput {
    const history = attemptRecord(error, fetched.attempt, fetched.worker);
    if (error instanceof UnrecoverableError) return { mode: 'dead', reason, history };
    if (fetched.attempt >= task.maxAttempts) {
      return { mode: 'dead', reason: `${reason} (attempt ${fetched.attempt} of ${task.maxAttempts})`, history };
    }
    try {
      return { mode: 'retry', reason, delayMs: backoffDelay(task.backoff, fetched.attempt, error, this.strategies), history };
    } catch (backoffError) {
      return { mode: 'dead', reason: `${reason}; cannot retry: ${failureReason(backoffError)}`, history };
    }
  }

  fail(fetched: FetchedTask, input: FailInput): Promise<string | undefined> {
    if (this.lost(fetched)) return Promise.resolve(undefined);
    return this.record(() => this.consumer.fail(fetched.id, fetched.worker, fetched.token, input));
  }

  /** Whether Redis lost the queue's data since `fetched` was fetched (its epoch is not the consumer's): its outcome cannot be recorded. */
  lost(fetched: FetchedTask): boolean {
    const now = this.consumer.epoch;
    return fetched.epoch !== undefined && now !== undefined && fetched.epoch !== now;
  }

  /**
   * Ends the retries of outcomes not recorded yet (the pool is stopping and
   * can wait no longer): each rejects with its last error.
   */
  giveUpRecording(): void {
    this.recordingGivenUp.abort();
  }

  /**
   * Runs a recording call, retrying until Redis takes it (unreachable,
   * restarting, refusing writes at maxmemory): a finished task's outcome is
   * held, never dropped, until it is recorded, refused (the task is someone
   * else's now), or the pool gives up at the end of its stop.
   */
  async record<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      return this.recordAfterFailure(err, call);
    }
  }

  /** record(), when a first try (made without it) already failed with `err`. */
  async recordAfterFailure<T>(err: unknown, call: () => Promise<T>): Promise<T> {
    const givenUp = this.recordingGivenUp.signal;
    for (let attempt = 1; ; attempt++) {
      if (givenUp.aborted) throw err;
      this.recordErrors++;
      if (attempt === 1 || attempt % RECORD_RETRY_LOG_EVERY === 0) {
        this.logger.warn({ err, attempt }, `recording a task outcome failed (try ${attempt}); holding it and retrying until Redis takes it: ${String(err)}`);
      }
      await pause(this.retryBaseMs * Math.min(2 ** attempt, RECORD_RETRY_MAX_FACTOR), givenUp);
      if (givenUp.aborted) throw err;
      try {
        return await call();
      } catch (again) {
        err = again;
      }
    }
  }
}
