import { randomBytes } from 'node:crypto';
import { FINAL_STATUSES, type Logger } from '@taskq/recorder';
import { TasksLostError, type Queue } from '@taskq/queue';
import type { Monitor } from '@taskq/monitor';
import { CompletionTracker } from './completion-tracker';
import { ProducerInterruptedError } from './producer-interrupted-error';
import { enqueueInBatches } from './enqueue-batches';
import { EnqueueProgress } from './enqueue-progress';
import { sleepTasks, taskId, type SleepTaskOptions } from './sleep-tasks';
import { waitUntilFinal } from './wait-until-final';

export interface ProduceOptions extends SleepTaskOptions {
  /** Wait until every task has a final status. */
  readonly wait: boolean;
  /** Give up waiting after this many ms (0: no limit). */
  readonly timeoutMs: number;
  /**
   * Stops the run (its reason: the signal's name, e.g. 'SIGINT'): the enqueue
   * after the batch being sent, or the wait at once; it rejects with a
   * ProducerInterruptedError that says what is in the queue.
   */
  readonly signal?: AbortSignal;
}

/** Final count per status, plus wall time. */
export interface Summary {
  readonly total: number;
  readonly queue: string;
  readonly wallMs: number;
  readonly counts: Record<string, number>;
}

/** A run id that keeps task ids of separate runs apart on a shared Redis. */
export function runTag(): string {
  return randomBytes(2).toString('hex');
}

/**
 * Enqueues `count` sleep tasks of random duration in [minMs, maxMs], made
 * and sent one batch at a time (memory does not grow with the count), with
 * a progress line now and then; unless told not to, it then waits until
 * every task has a final status. Memory while waiting: one bit per task
 * (which are final) and the Monitor's bounded record cache.
 */
export async function produce(queue: Queue, monitor: Monitor, logger: Logger, o: ProduceOptions): Promise<Summary> {
  const started = performance.now();
  const tracker = o.wait ? new CompletionTracker(o.idPrefix, o.count) : undefined;
  let stopListening = (): void => undefined;
  if (tracker) {
    // listening before the first enqueue: no task of the run can turn final unseen
    await monitor.start();
    const off = monitor.onStatus('*', FINAL_STATUSES, (record) => void tracker.mark(record.id, record.status));
    stopListening = () => void off();
  }
  try {
    const pause = await queue.paused();
    if (pause) {
      const why = pause.reason === undefined ? '' : ` (${pause.reason})`;
      logger.warn(
        { queue: queue.name, pausedAt: pause.at, reason: pause.reason },
        `queue ${queue.name} is paused since ${new Date(pause.at).toISOString()}${why}: the tasks wait until it is resumed`,
      );
    }
    const progress = new EnqueueProgress(logger, queue.name, o.count);
    const advice = `To enqueue the rest, run the same command again with --id-prefix ${o.idPrefix} (ids already enqueued are left as they are)`;
    const signalName = (): string => String(o.signal?.reason ?? 'interrupted');
    await enqueueInBatches(queue, sleepTasks(o), {
      total: o.count,
      onProgress: (n) => progress.update(n),
      afterBatch: async (n) => {
        // Redis lost the queue's data between two batches: the earlier batches' tasks are gone
        const loss = await queue.checkData();
        if (loss) throw new TasksLostError(loss, [taskId(o.idPrefix, 1)], n);
        if (o.signal?.aborted && n < o.count) throw ProducerInterruptedError.whileEnqueuing(signalName(), n, o.count, advice);
      },
      advice,
    });
    logger.info({ queue: queue.name, count: o.count }, `enqueued ${o.count} task(s) on queue ${queue.name}`);
    const wallMs = (): number => Math.round(performance.now() - started);
    if (!tracker) return { total: o.count, queue: queue.name, wallMs: wallMs(), counts: { Queued: o.count } };
    try {
      await waitUntilFinal(tracker, queue, { timeoutMs: o.timeoutMs, onSuspectLoss: (suspect) => monitor.onDataLost(suspect), signal: o.signal });
    } catch (err) {
      if (o.signal?.aborted && tracker.pending > 0) throw ProducerInterruptedError.whileWaiting(signalName(), tracker.pending, o.count, tracker.counts());
      throw err;
    }
    if (tracker.forgotten > 0) {
      logger.warn(
        { queue: queue.name, forgotten: tracker.forgotten },
        `${tracker.forgotten} task(s) ended while their status events were lost, and retention forgot them before they were read: how they ended is unknown (the workers' --retention-max-count and --retention-max-age-ms keep more)`,
      );
    }
    return { total: o.count, queue: queue.name, wallMs: wallMs(), counts: tracker.counts() };
  } finally {
    stopListening();
  }
}

/** `20/20 Done, 0 Failed; wall time 7.42 s` */
export function describeSummary(s: Summary): string {
  const done = s.counts['Done'] ?? 0;
  const others = Object.entries(s.counts)
    .filter(([status]) => status !== 'Done')
    .map(([status, n]) => `${n} ${status}`);
  return `summary: ${done}/${s.total} Done${others.length ? `, ${others.join(', ')}` : ''}; wall time ${(s.wallMs / 1000).toFixed(2)} s`;
}

/** The `--json` line: total and count per final status. */
export function summaryJson(s: Summary): string {
  return JSON.stringify({ queue: s.queue, total: s.total, ...s.counts, wallMs: s.wallMs });
}
