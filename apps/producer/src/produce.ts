import { randomBytes } from 'node:crypto';
import { FINAL_STATUSES, type Logger } from '@taskq/recorder';
import type { Queue } from '@taskq/queue';
import type { Monitor } from '@taskq/monitor';

export interface ProduceOptions {
  readonly count: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Wait until every task has a final status. */
  readonly wait: boolean;
  /** Give up waiting after this many ms (0: no limit). */
  readonly timeoutMs: number;
  /** Task ids are `<idPrefix><n>`. */
  readonly idPrefix: string;
  /** Share (0..1) of tasks whose first attempts throw (1..maxAttempts of them, so some recover and some end Dead). */
  readonly failRate: number;
  /** Executions allowed per task. */
  readonly maxAttempts: number;
  /** Backoff between attempts, ms (fixed). */
  readonly retryDelayMs: number;
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
 * Enqueues `count` sleep tasks of random duration in [minMs, maxMs] in one
 * bulk call and, unless told not to, waits through the Monitor until every
 * task has a final status.
 */
export async function produce(queue: Queue, monitor: Monitor, logger: Logger, o: ProduceOptions): Promise<Summary> {
  const started = performance.now();
  const inputs = Array.from({ length: o.count }, (_, i) => {
    const ms = o.minMs + Math.floor(Math.random() * (o.maxMs - o.minMs + 1));
    // a failing task throws on its first 1..maxAttempts attempts: it recovers, or it is Dead
    const failAttempts = Math.random() < o.failRate ? 1 + Math.floor(Math.random() * o.maxAttempts) : 0;
    const payload: Record<string, number> = failAttempts > 0 ? { ms, failAttempts } : { ms };
    return {
      id: `${o.idPrefix}${i + 1}`,
      type: 'sleep',
      payload,
      maxAttempts: o.maxAttempts,
      backoff: { type: 'fixed' as const, delayMs: o.retryDelayMs },
    };
  });
  const ids = inputs.map((t) => t.id);
  const counts: Record<string, number> = {};
  if (o.wait) await monitor.start();
  await queue.enqueueMany(inputs);
  logger.info({ queue: queue.name, count: o.count }, `enqueued ${o.count} task(s) on queue ${queue.name}`);
  if (!o.wait) {
    counts['Queued'] = o.count;
    return { total: o.count, queue: queue.name, wallMs: Math.round(performance.now() - started), counts };
  }
  const final = await monitor.waitFor(ids, FINAL_STATUSES, o.timeoutMs > 0 ? { timeoutMs: o.timeoutMs } : {});
  for (const status of FINAL_STATUSES) counts[status] = 0;
  for (const rec of final.values()) counts[rec.status] = (counts[rec.status] ?? 0) + 1;
  return { total: o.count, queue: queue.name, wallMs: Math.round(performance.now() - started), counts };
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
