import type { SystemName } from '../names';
import { epochNow, payload } from '../payload';
import type { LatencyResult } from '../results';
import { flushAll } from '../redis-admin';
import { summarizeLatencies } from '../stats';
import type { Producer } from '../systems/producer';
import { openProducer } from '../systems/open-producer';
import { waitForDrain } from '../wait-for-drain';
import { WorkerProcess } from '../worker-process';
import { LostTasksError, type BenchContext } from './context';

/** Time the started worker gets to go idle (its first fetch finds nothing and it waits) before the stream begins, ms. */
const IDLE_SETTLE_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Enqueues `total` tasks one at a time, evenly over `durationMs`: a 1 ms
 * timer sends every task that is due, catching up when a tick comes late.
 * Each payload carries the time it was handed to the enqueue call. Resolves
 * with the time from the first send to the last enqueue's reply, ms.
 */
export async function steadyStream(producer: Producer, total: number, durationMs: number): Promise<number> {
  const sends: Promise<void>[] = [];
  let failure: { reason: unknown } | undefined;
  // Caught as sent: a rejection must not go unhandled until the stream ends.
  const send = (i: number): Promise<void> =>
    producer.enqueueOne(payload(i, epochNow())).catch((err: unknown) => {
      failure ??= { reason: err };
    });
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * total) / durationMs) + 1);
      while (sends.length < due) sends.push(send(sends.length));
      if (sends.length >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  await Promise.all(sends);
  if (failure) throw failure.reason;
  return performance.now() - t0;
}

/** The latency scenario for one system: a steady stream into an idle worker; enqueue-to-start percentiles. */
export async function runLatency(ctx: BenchContext, system: SystemName): Promise<LatencyResult> {
  const { latencyRate, latencyMs } = ctx.plan;
  const total = Math.max(1, Math.round((latencyRate * latencyMs) / 1000));
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  let worker: WorkerProcess | undefined;
  try {
    worker = await WorkerProcess.start({
      system,
      url: ctx.target.url,
      concurrency: ctx.plan.concurrency,
      retainAtLeast: total,
      recordLatency: true,
    });
    const w = worker;
    await w.go();
    await sleep(IDLE_SETTLE_MS);
    const t0 = performance.now();
    const streamMs = await steadyStream(producer, total, latencyMs);
    await waitForDrain(producer, total, t0, () => w.assertHealthy());
    const { handled, latenciesMs } = await w.report();
    if (handled < total) throw new LostTasksError(`${system}: the worker ran ${handled} of ${total} task(s)`);
    await w.stop();
    worker = undefined;
    const s = summarizeLatencies(latenciesMs);
    return {
      bench: 'latency',
      system,
      n: total,
      ratePerSec: latencyRate,
      durationMs: latencyMs,
      sentPerSec: total / (streamMs / 1000),
      p50Ms: s.p50Ms,
      p90Ms: s.p90Ms,
      p99Ms: s.p99Ms,
      maxMs: s.maxMs,
    };
  } finally {
    await worker?.kill();
    await producer.close();
  }
}
