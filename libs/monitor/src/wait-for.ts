import type { StatusRecord, TaskStatus } from '@taskq/recorder';
import { TasksLostError, type DataLoss } from '@taskq/queue';
import { MonitorTimeoutError } from './monitor-timeout-error';

/** How long `Monitor.waitFor` may wait. */
export interface WaitForOptions {
  /** Reject with a `MonitorTimeoutError` after this many ms. Default: no timeout. */
  readonly timeoutMs?: number;
  /** Reject with the signal's `reason` when it aborts. Default: none. */
  readonly signal?: AbortSignal;
}

/** What a wait needs from the monitor. */
export interface WaitContext {
  /** Registers a callback for every applied record; returns its remover. */
  listen(callback: (record: StatusRecord) => void): () => void;
  /** The latest known record of a task. */
  latest(taskId: string): StatusRecord | undefined;
  /** Reads the recorded statuses of `taskIds` and applies them (firing listeners). */
  seed(taskIds: readonly string[]): Promise<void>;
  /** Registers a function the monitor calls when it stops; returns its remover. */
  onStop(cancel: (err: Error) => void): () => void;
  /** Registers a function the monitor calls with the tasks Redis lost (see Monitor.onDataLost); returns its remover. */
  onLost?(cancel: (lost: ReadonlySet<string>, loss: DataLoss) => void): () => void;
}

/**
 * Resolves once every id has been seen with one of `statuses` as its latest
 * status; the map holds that record per id, in the order of `taskIds`.
 *
 * The listener is registered before the recorded statuses are read, so a
 * change that lands between the read and the subscription cannot be missed.
 */
export function waitForStatuses(
  ctx: WaitContext,
  taskIds: readonly string[],
  statuses: readonly TaskStatus[],
  options: WaitForOptions = {},
): Promise<Map<string, StatusRecord>> {
  const { timeoutMs, signal } = options;
  return new Promise<Map<string, StatusRecord>>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const wanted = new Set(statuses);
    const pending = new Set(taskIds);
    const reached = new Map<string, StatusRecord>();
    const cleanups: Array<() => void> = [];
    let settled = false;

    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      return true;
    };
    const fail = (err: unknown): void => {
      if (finish()) reject(err);
    };
    const succeed = (): void => {
      if (!finish()) return;
      const ordered = new Map<string, StatusRecord>();
      for (const id of taskIds) ordered.set(id, reached.get(id) as StatusRecord);
      resolve(ordered);
    };
    const consider = (record: StatusRecord): void => {
      if (!pending.has(record.id) || !wanted.has(record.status)) return;
      pending.delete(record.id);
      reached.set(record.id, record);
      if (pending.size === 0) succeed();
    };

    cleanups.push(ctx.listen(consider));
    cleanups.push(ctx.onStop(fail));
    if (ctx.onLost) {
      cleanups.push(
        ctx.onLost((lost, loss) => {
          const mine = [...pending].filter((id) => lost.has(id));
          if (mine.length > 0) fail(new TasksLostError(loss, mine));
        }),
      );
    }
    if (timeoutMs !== undefined) {
      const timer = setTimeout(
        () => fail(new MonitorTimeoutError([...pending], taskIds.length, timeoutMs)),
        timeoutMs,
      );
      cleanups.push(() => clearTimeout(timer));
    }
    if (signal !== undefined) {
      const onAbort = (): void => fail(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }

    for (const id of taskIds) {
      const known = ctx.latest(id);
      if (known !== undefined) consider(known);
    }
    if (pending.size === 0) {
      succeed();
      return;
    }
    ctx.seed([...pending]).catch(fail);
  });
}
