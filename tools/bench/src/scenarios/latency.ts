import { latencyResult, splitWarmup, WARMUP_MS, warmupTasks, type LatencyRun } from '../latency-runs';
import type { SystemName } from '../names';
import { errorMessage, formatInt, type BenchOutcome, type Progress } from '../outcome';
import { epochNow, payload } from '../payload';
import { flushAll } from '../redis-admin';
import { redisCostBetween, redisCostPerTask, redisCostSnapshot } from '../redis-cost';
import type { Producer } from '../systems/producer';
import { openProducer } from '../systems/open-producer';
import { countingPolls, waitForDrain } from '../wait-for-drain';
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

/**
 * One latency run of one system: a fresh worker process, idle; a warm-up
 * second (the run's rate for WARMUP_MS) whose latencies are kept apart; once
 * every warm-up task finished, the measured stream; enqueue-to-start
 * percentiles of each, and what the measured stream cost Redis per task
 * (INFO read just before its first enqueue and just after the poll that saw
 * its last task finished: its enqueues, the worker's fetches and acks, the
 * bench's polls).
 */
async function latencyRun(ctx: BenchContext, system: SystemName): Promise<LatencyRun> {
  const { latencyRate, latencyMs } = ctx.plan;
  const total = latencyTasks(ctx);
  const warmup = warmupTasks(latencyRate);
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  let worker: WorkerProcess | undefined;
  try {
    worker = await WorkerProcess.start({
      system,
      url: ctx.target.url,
      concurrency: ctx.plan.concurrency,
      retainAtLeast: warmup + total,
      recordLatency: true,
    });
    const w = worker;
    await w.go();
    await sleep(IDLE_SETTLE_MS);
    const w0 = performance.now();
    await steadyStream(producer, warmup, WARMUP_MS);
    await waitForDrain(producer, warmup, w0, () => w.assertHealthy());
    const counted = countingPolls(producer);
    const before = await redisCostSnapshot(ctx.admin);
    const t0 = performance.now();
    const streamMs = await steadyStream(producer, total, latencyMs);
    // taskq counts finished tasks: the warm-up's are among them
    await waitForDrain(counted.producer, warmup + total, t0, () => w.assertHealthy());
    const cost = redisCostBetween(before, await redisCostSnapshot(ctx.admin));
    const { handled, latenciesMs } = await w.report();
    if (handled < warmup + total) throw new LostTasksError(`${system}: the worker ran ${handled} of ${warmup + total} task(s) (${warmup} of them the warm-up)`);
    await w.stop();
    worker = undefined;
    const split = splitWarmup(latenciesMs, warmup, total);
    return { sentPerSec: total / (streamMs / 1000), ...split, redisCost: redisCostPerTask(cost, total), polls: counted.polls() };
  } finally {
    await worker?.kill();
    await producer.close();
  }
}

/** Tasks per measured latency run: the plan's rate for its duration, at least one. */
export function latencyTasks(ctx: Pick<BenchContext, 'plan'>): number {
  return Math.max(1, Math.round((ctx.plan.latencyRate * ctx.plan.latencyMs) / 1000));
}

/**
 * The latency scenario: `repeat` runs per system, the systems interleaved
 * (taskq, BullMQ, bee-queue, taskq, …) as in the throughput scenarios; each
 * figure the median over a system's runs. A system that fails a run is
 * recorded and skipped for the rest of the scenario.
 */
export async function runLatency(ctx: BenchContext, systems: readonly SystemName[], progress: Progress, out: BenchOutcome, signal: AbortSignal): Promise<void> {
  const { latencyRate, latencyMs, repeat } = ctx.plan;
  const n = latencyTasks(ctx);
  const runs = new Map<SystemName, LatencyRun[]>(systems.map((s) => [s, []]));
  const failed = new Set<SystemName>();
  for (let r = 1; r <= repeat; r++) {
    for (const system of systems) {
      if (failed.has(system)) continue;
      signal.throwIfAborted();
      try {
        const run = await latencyRun(ctx, system);
        runs.get(system)?.push(run);
        progress(
          `latency ${system} n=${formatInt(n)} run ${r}/${repeat}: p50 ${run.run.p50Ms.toFixed(2)} ms, p99 ${run.run.p99Ms.toFixed(2)} ms ` +
            `(warm-up p99 ${run.warmup.p99Ms.toFixed(2)} ms; sent ${formatInt(run.sentPerSec)}/s; Redis ${run.redisCost.redisUsPerTask.toFixed(1)} µs/task)`,
        );
      } catch (err) {
        failed.add(system);
        out.errors.push({ bench: 'latency', system, n, error: errorMessage(err) });
        progress(`latency ${system} n=${formatInt(n)} run ${r}/${repeat}: ERROR ${errorMessage(err)}`);
      }
    }
  }
  for (const system of systems) {
    const measured = runs.get(system) ?? [];
    if (failed.has(system) || measured.length === 0) continue;
    out.results.push(latencyResult(system, { n, ratePerSec: latencyRate, durationMs: latencyMs, warmupMs: WARMUP_MS }, measured));
  }
}
