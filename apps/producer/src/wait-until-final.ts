import type { StatusRecord } from '@taskq/recorder';
import { TasksLostError, type DataLoss } from '@taskq/queue';
import type { CompletionTracker } from './completion-tracker';
import { WaitTimeoutError } from './wait-timeout-error';

/** What the wait reads the recorded statuses with (a Queue). */
export interface StatusReader {
  statuses(taskIds: readonly string[]): Promise<Map<string, StatusRecord | undefined>>;
  /** Whether Redis lost the queue's data since the tasks were enqueued (see Queue.checkData). */
  checkData(): Promise<DataLoss | undefined>;
}

export interface WaitUntilFinalOptions {
  /** Give up after this many ms with a WaitTimeoutError (0: never). */
  readonly timeoutMs: number;
  /** Re-read the recorded statuses after this long without a task turning final, ms. Default 1000. */
  readonly quietMs?: number;
  /** A re-read that finds nothing doubles the quiet time, up to this, ms. Default 30000. */
  readonly maxQuietMs?: number;
  /** Ids per status read. Default 1000. */
  readonly chunkSize?: number;
  /**
   * Registers a function to call when Redis may have lost the queue's data
   * (the Monitor's onDataLost): the wait re-reads at once. Returns its remover.
   */
  readonly onSuspectLoss?: (suspect: () => void) => () => void;
  /** Stops the wait: it rejects with the signal's reason at once (its timers and reads end with it). */
  readonly signal?: AbortSignal;
}

/**
 * Resolves once every task of `tracker` is final. The tracker is fed live
 * (the Monitor's events); pub/sub may drop a message, and tasks that were
 * final before this run (an id enqueued already) send none, so after a
 * quiet spell the recorded statuses of the pending tasks are read — the
 * recorded status is the truth; a task whose record is gone ended and was
 * forgotten by retention (counted as such, not waited for forever). The
 * reads back off while nothing moves (no worker running), so an idle wait
 * costs little.
 */
export async function waitUntilFinal(tracker: CompletionTracker, reader: StatusReader, o: WaitUntilFinalOptions): Promise<void> {
  const minQuiet = o.quietMs ?? 1000;
  const maxQuiet = Math.max(minQuiet, o.maxQuietMs ?? 30_000);
  const chunkSize = o.chunkSize ?? 1000;
  const deadline = o.timeoutMs > 0 ? Date.now() + o.timeoutMs : Infinity;
  let quiet = minQuiet;
  let suspect = false;
  let interrupt = (): void => undefined;
  const off = o.onSuspectLoss?.(() => {
    suspect = true;
    interrupt();
  });
  const onAbort = (): void => interrupt();
  o.signal?.addEventListener('abort', onAbort);
  const stopIfAborted = (): void => {
    if (o.signal?.aborted) throw o.signal.reason;
  };
  try {
    while (tracker.pending > 0) {
      stopIfAborted();
      const before = tracker.pending;
      const left = deadline - Date.now();
      if (left <= 0) throw timeout(tracker, o.timeoutMs);
      if (!suspect) await untilDoneOr(tracker, Math.min(quiet, left), (wake) => (interrupt = wake));
      if (tracker.pending === 0) return;
      stopIfAborted();
      if (tracker.pending < before && !suspect) {
        quiet = minQuiet; // moving: the events keep up
        continue;
      }
      suspect = false;
      if (Date.now() >= deadline) throw timeout(tracker, o.timeoutMs);
      await reread(tracker, reader, chunkSize);
      quiet = tracker.pending < before ? minQuiet : Math.min(quiet * 2, maxQuiet);
    }
  } finally {
    off?.();
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads the recorded statuses of the pending tasks. A task without a record
 * ended and was forgotten by retention — unless Redis lost the queue's data
 * (checked before the first such task is counted): then every pending task
 * without a record is lost, and the wait fails with a TasksLostError.
 */
async function reread(tracker: CompletionTracker, reader: StatusReader, chunkSize: number): Promise<void> {
  let loss: DataLoss | undefined;
  let checked = false;
  const lost: string[] = [];
  let lostCount = 0;
  for (const ids of tracker.pendingIds(chunkSize)) {
    const missing: string[] = [];
    for (const [id, record] of await reader.statuses(ids)) {
      if (record) tracker.mark(id, record.status);
      else missing.push(id);
    }
    if (missing.length === 0) continue;
    if (!checked) {
      loss = await reader.checkData();
      checked = true;
    }
    if (loss) {
      lostCount += missing.length;
      if (lost.length < 10) lost.push(...missing.slice(0, 10 - lost.length));
    } else {
      // no record: the task ended and retention forgot it before this run saw how
      for (const id of missing) tracker.markForgotten(id);
    }
  }
  if (loss) throw new TasksLostError(loss, lost, lostCount);
}

/** Waits `ms`, or less when the last pending task turns final, or when `interruptible`'s wake is called. */
function untilDoneOr(tracker: CompletionTracker, ms: number, interruptible: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      interruptible(() => undefined);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const off = tracker.onChange(() => {
      if (tracker.pending === 0) done();
    });
    interruptible(done);
  });
}

function timeout(tracker: CompletionTracker, timeoutMs: number): WaitTimeoutError {
  const first = tracker.pendingIds(5).next();
  const sample: readonly string[] = first.done ? [] : first.value;
  return new WaitTimeoutError(tracker.pending, tracker.count, timeoutMs, sample);
}
