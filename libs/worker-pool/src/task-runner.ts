import type { Logger } from '@taskq/recorder';
import type { Consumer, FetchedTask } from '@taskq/queue';
import { failureReason, type TaskHandler } from './handler';

/** A task a sub-worker is running. */
export interface RunningTask {
  readonly id: string;
  /** Settles when the task is finished and its outcome recorded (never rejects). */
  readonly done: Promise<void>;
  /** Fires the handler's AbortSignal; the outcome is then not recorded (the task is put back). */
  abort(reason: Error): void;
}

const ACK_RETRIES = 20;

/**
 * Runs one fetched task: decodes it, finds its handler, runs it with an
 * AbortSignal, and records the outcome (ack -> Done, reject -> Failed).
 * Nothing a handler does (throw a non-Error, reject, never settle after an
 * abort) can crash the worker.
 */
export class TaskRunner {
  constructor(
    private readonly consumer: Consumer,
    private readonly handlers: ReadonlyMap<string, TaskHandler>,
    private readonly logger: Logger,
  ) {}

  run(fetched: FetchedTask): RunningTask {
    const controller = new AbortController();
    const log = this.logger.child({
      taskId: fetched.id,
      queue: this.consumer.keys.queue,
      attempt: fetched.attempt,
      worker: fetched.worker,
    });
    let aborted = false;
    const done = this.execute(fetched, controller.signal, log, () => aborted).catch((err: unknown) => {
      log.error({ err }, `task ${fetched.id}: outcome could not be recorded: ${String(err)}`);
    });
    return {
      id: fetched.id,
      done,
      abort: (reason: Error) => {
        aborted = true;
        controller.abort(reason);
      },
    };
  }

  private async execute(fetched: FetchedTask, signal: AbortSignal, log: Logger, wasAborted: () => boolean): Promise<void> {
    const { id, worker } = fetched;
    const task = fetched.task;
    if (!task) {
      const reason = fetched.invalid?.message ?? `task ${id} could not be decoded`;
      log.error({ reason }, `REJECT ${id}: ${reason}`);
      await this.record(() => this.consumer.reject(id, worker, reason));
      return;
    }
    const handler = this.handlers.get(task.type);
    if (!handler) {
      const reason = `no handler for task type ${JSON.stringify(task.type)}`;
      log.error({ reason, type: task.type }, `REJECT ${id}: ${reason}`);
      await this.record(() => this.consumer.reject(id, worker, reason));
      return;
    }
    const started = performance.now();
    log.info({ type: task.type }, `START ${id}`);
    let failure: string | undefined;
    try {
      await handler(task, { signal, attempt: fetched.attempt, worker, logger: log });
    } catch (err) {
      failure = failureReason(err);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (wasAborted()) {
      // stop() has put the task back in the queue; recording an outcome now would be refused anyway
      log.warn({ durationMs: Number(seconds) * 1000 }, `ABORTED ${id} after ${seconds} s (returned to the queue)`);
      return;
    }
    if (failure === undefined) {
      const ok = await this.record(() => this.consumer.ack(id, worker));
      log.info({ durationMs: Number(seconds) * 1000, acked: ok }, `DONE ${id} (${seconds} s)`);
    } else {
      const ok = await this.record(() => this.consumer.reject(id, worker, failure as string));
      log.warn({ durationMs: Number(seconds) * 1000, reason: failure, recorded: ok }, `FAILED ${id} (${seconds} s): ${failure}`);
    }
  }

  /** Runs a recording call, retrying while Redis is unreachable (e.g. restarting). */
  private async record(call: () => Promise<boolean>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (attempt >= ACK_RETRIES) throw err;
        this.logger.warn({ err, attempt }, `recording a task outcome failed, retrying: ${String(err)}`);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
