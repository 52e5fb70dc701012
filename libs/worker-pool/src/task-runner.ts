import type { Logger } from '@taskq/recorder';
import { backoffDelay, type BackoffStrategy, type Consumer, type FailInput, type FetchedTask, type Task } from '@taskq/queue';
import type { TaskHandler } from './handler';
import { attemptRecord, failureReason } from './failure';
import { UnrecoverableError } from './errors/unrecoverable-error';
import { TaskTimeoutError } from './errors/task-timeout-error';
import { TaskCancelledError } from './errors/task-cancelled-error';
import { setLongTimeout } from './long-timeout';
import type { AckBatcher } from './ack-batcher';
import { LazyAbort, lazyChild } from './lazy';

/** A task a sub-worker is running. */
export interface RunningTask {
  readonly id: string;
  /** Settles when the task is finished and its outcome recorded (never rejects). */
  readonly done: Promise<void>;
  /** Settles when the handler is over (its outcome may still be being recorded): its sub-worker is free. */
  readonly handlerDone: Promise<void>;
  /** Stop for shutdown: the signal fires; no outcome is recorded (the pool puts the task back). */
  abort(reason: Error): void;
  /** Stop because the task was cancelled: the signal fires and the task is recorded Cancelled. */
  cancel(): void;
}

const RECORD_RETRIES = 20;

/** Why an attempt ended, decided once, in the order things happened. */
type Ending = { kind: 'ok' } | { kind: 'error'; error: unknown } | { kind: 'timeout'; error: TaskTimeoutError } | { kind: 'cancel' } | { kind: 'abort' };

/**
 * Runs one fetched task: decodes it, finds its handler, runs it with an
 * AbortSignal (fired by a timeout, a cancel or a forced shutdown), and
 * records the outcome under the fetch's fencing token: Done, Retrying after
 * the task's backoff, Dead after its last attempt, Failed when it cannot run
 * at all, Cancelled. Nothing a handler does can crash the worker.
 */
export class TaskRunner {
  constructor(
    private readonly consumer: Consumer,
    private readonly handlers: ReadonlyMap<string, TaskHandler>,
    private readonly strategies: ReadonlyMap<string, BackoffStrategy>,
    private readonly logger: Logger,
    private readonly acks: AckBatcher,
  ) {}

  run(fetched: FetchedTask): RunningTask {
    const controller = new LazyAbort();
    const log = lazyChild(this.logger, { taskId: fetched.id, queue: this.consumer.keys.queue, attempt: fetched.attempt, worker: fetched.worker });
    let ending: Ending | undefined;
    let settle: ((e: Ending) => void) | undefined;
    const end = (e: Ending): void => {
      if (ending) return;
      ending = e;
      settle?.(e);
    };
    const ended = new Promise<Ending>((resolve) => {
      settle = resolve;
    });
    let handlerOver!: () => void;
    const handlerDone = new Promise<void>((resolve) => (handlerOver = resolve));
    const done = this.execute(fetched, controller, log, ended, end, handlerOver)
      .catch((err: unknown) => {
        log.error({ err }, `task ${fetched.id}: outcome could not be recorded: ${String(err)}`);
      })
      .finally(handlerOver);
    return {
      id: fetched.id,
      done,
      handlerDone,
      abort: (reason: Error) => {
        end({ kind: 'abort' });
        controller.abort(reason);
      },
      cancel: () => {
        end({ kind: 'cancel' });
        controller.abort(new TaskCancelledError(fetched.id));
      },
    };
  }

  private async execute(
    fetched: FetchedTask,
    controller: LazyAbort,
    log: Logger,
    ended: Promise<Ending>,
    end: (e: Ending) => void,
    handlerOver: () => void,
  ): Promise<void> {
    const { id, worker, token, attempt } = fetched;
    const task = fetched.task;
    if (!task) {
      const reason = fetched.invalid?.message ?? `task ${id} could not be decoded`;
      log.error({ reason }, `REJECT ${id}: ${reason}`);
      await this.fail(fetched, { mode: 'reject', reason });
      return;
    }
    const handler = this.handlers.get(task.type);
    if (!handler) {
      const reason = `no handler for task type ${JSON.stringify(task.type)}`;
      log.error({ reason, type: task.type }, `REJECT ${id}: ${reason}`);
      await this.fail(fetched, { mode: 'reject', reason });
      return;
    }

    const started = performance.now();
    log.info({ type: task.type }, `START ${id}`);
    let clearTimer = (): void => undefined;
    if (task.timeoutMs !== undefined) {
      const error = new TaskTimeoutError(task.timeoutMs);
      // not setTimeout: a timeoutMs beyond ~24.8 days would fire after 1 ms
      clearTimer = setLongTimeout(() => {
        end({ kind: 'timeout', error });
        controller.abort(error);
      }, task.timeoutMs);
    }
    Promise.resolve()
      .then(() =>
        handler(task, {
          // made when the handler first looks at it
          get signal() {
            return controller.signal;
          },
          attempt,
          worker,
          logger: log,
        }),
      )
      .then(
        () => end({ kind: 'ok' }),
        (error: unknown) => end({ kind: 'error', error }),
      );
    // a timeout, cancel or abort ends the attempt even if the handler ignores its signal
    const ending = await ended;
    clearTimer();
    handlerOver();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const durationMs = Math.round(performance.now() - started);

    switch (ending.kind) {
      case 'abort':
        log.warn({ durationMs }, `ABORTED ${id} after ${seconds} s (returned to the queue)`);
        return;
      case 'ok': {
        const ok = await this.record(() => this.acks.ack(id, worker, token));
        if (ok) log.info({ durationMs, acked: ok }, `DONE ${id} (${seconds} s)`);
        else log.warn({ durationMs, acked: ok }, `FINISHED ${id} (${seconds} s), but its ack was refused (the task had been taken back)`);
        return;
      }
      case 'cancel': {
        const status = await this.fail(fetched, { mode: 'cancel', reason: 'cancelled while running' });
        log.warn({ durationMs, status }, `CANCELLED ${id} after ${seconds} s`);
        return;
      }
      case 'timeout':
      case 'error':
        await this.failed(fetched, task, ending.error, durationMs, seconds, log);
    }
  }

  /** A failed attempt: retry after the backoff, or dead letter after the last attempt. */
  private async failed(fetched: FetchedTask, task: Task, error: unknown, durationMs: number, seconds: string, log: Logger): Promise<void> {
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
    log.warn({ durationMs, reason, status }, `FAILED ${fetched.id} (${seconds} s): ${reason} -> ${status ?? 'refused'}${next}`);
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

  private fail(fetched: FetchedTask, input: FailInput): Promise<string | undefined> {
    return this.record(() => this.consumer.fail(fetched.id, fetched.worker, fetched.token, input));
  }

  /** Runs a recording call, retrying while Redis is unreachable (e.g. restarting). */
  private async record<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (attempt >= RECORD_RETRIES) throw err;
        this.logger.warn({ err, attempt }, `recording a task outcome failed, retrying: ${String(err)}`);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
