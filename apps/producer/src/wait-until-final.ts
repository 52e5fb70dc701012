import type { StatusRecord } from '@taskq/recorder';
import type { CompletionTracker } from './completion-tracker';
import { WaitTimeoutError } from './wait-timeout-error';

/** What the wait reads the recorded statuses with (a Queue). */
export interface StatusReader {
  statuses(taskIds: readonly string[]): Promise<Map<string, StatusRecord | undefined>>;
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
  while (tracker.pending > 0) {
    const before = tracker.pending;
    const left = deadline - Date.now();
    if (left <= 0) throw timeout(tracker, o.timeoutMs);
    await untilDoneOr(tracker, Math.min(quiet, left));
    if (tracker.pending === 0) return;
    if (tracker.pending < before) {
      quiet = minQuiet; // moving: the events keep up
      continue;
    }
    if (Date.now() >= deadline) throw timeout(tracker, o.timeoutMs);
    for (const ids of tracker.pendingIds(chunkSize)) {
      for (const [id, record] of await reader.statuses(ids)) {
        // no record: the task ended and retention forgot it before this run saw how
        if (record) tracker.mark(id, record.status);
        else tracker.markForgotten(id);
      }
    }
    quiet = tracker.pending < before ? minQuiet : Math.min(quiet * 2, maxQuiet);
  }
}

/** Waits `ms`, or less when the last pending task turns final. */
function untilDoneOr(tracker: CompletionTracker, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const off = tracker.onChange(() => {
      if (tracker.pending === 0) done();
    });
  });
}

function timeout(tracker: CompletionTracker, timeoutMs: number): WaitTimeoutError {
  const first = tracker.pendingIds(5).next();
  const sample: readonly string[] = first.done ? [] : first.value;
  return new WaitTimeoutError(tracker.pending, tracker.count, timeoutMs, sample);
}
