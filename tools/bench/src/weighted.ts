import { payload, type BenchPayload } from './payload';

/** One queue of the weighted scenario: its name and its weight in the worker. */
export interface WeightedQueue {
  readonly name: string;
  readonly weight: number;
}

/**
 * The weighted scenario's queues, as the README's "Several queues per worker"
 * example has them. Each gets the same share of the tasks as of the worker
 * (60 / 30 / 10 %): then the three backlogs run out at about the same time,
 * so the whole run is a drain of three queues (with equal thirds, critical
 * would empty first and the last part would be a drain of `low` alone), and
 * BullMQ's three workers, whose concurrency is split by the same weights,
 * each get work in proportion to their sub-workers.
 */
export const WEIGHTED_QUEUES: readonly WeightedQueue[] = [
  { name: 'critical', weight: 6 },
  { name: 'default', weight: 3 },
  { name: 'low', weight: 1 },
];

/** taskq's priorities: 0 (lowest) to 9 (highest), default 5. */
export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 9;

/**
 * Splits `total` into whole parts in proportion to `weights` (largest
 * remainder; ties to the earlier weight): the parts sum to `total`.
 */
export function splitByWeights(total: number, weights: readonly number[]): number[] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`total must be a whole number >= 0, got ${total}`);
  if (weights.length === 0 || weights.some((w) => !Number.isFinite(w) || w <= 0)) {
    throw new RangeError(`weights must be positive numbers, got ${JSON.stringify(weights)}`);
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map((x) => Math.floor(x));
  const order = exact.map((x, i) => ({ i, rest: x - Math.floor(x) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  let left = total - parts.reduce((a, b) => a + b, 0);
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i] = (parts[i] ?? 0) + 1;
    left--;
  }
  return parts;
}

/**
 * BullMQ's Workers for the weighted scenario: one per queue, the worker
 * process's concurrency split by the weights, at least 1 each (50 by 6:3:1
 * is 30 / 15 / 5). Needs at least one sub-worker per queue.
 */
export function splitConcurrency(concurrency: number, weights: readonly number[]): number[] {
  if (!Number.isInteger(concurrency) || concurrency < weights.length) {
    throw new RangeError(`concurrency ${concurrency} cannot give each of ${weights.length} queues a sub-worker`);
  }
  const exact = splitByWeights(concurrency, weights);
  if (exact.every((p) => p >= 1)) return exact;
  // a weight too small for a whole sub-worker: one each, the rest by weight
  return splitByWeights(concurrency - weights.length, weights).map((p) => p + 1);
}

/** A fixed seed: every run and every system gets the same priorities. */
export const PRIORITY_SEED = 0x7a5c_0014;

/**
 * The priority (0–9) of the weighted scenario's task `i`: a hash of `i` and
 * the seed (murmur3's finalizer), so it is the same in every run and for
 * every system, spread evenly over the ten levels, and in no order.
 */
export function priorityOf(i: number, seed = PRIORITY_SEED): number {
  let x = (Math.imul(i, 0x9e37_79b1) + seed) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85eb_ca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2_ae35);
  x ^= x >>> 16;
  return (x >>> 0) % (MAX_PRIORITY - MIN_PRIORITY + 1);
}

/**
 * taskq's priority as a BullMQ job priority. taskq: 0–9, higher first.
 * BullMQ (6.7.0, `opts.priority`): 0 means none, and a job without one goes
 * before every prioritized job; from 1 up, lower first. So 9 → 1 … 0 → 10:
 * every job prioritized, in taskq's order.
 */
export function bullmqPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new RangeError(`a priority is a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${priority}`);
  }
  return MAX_PRIORITY + 1 - priority;
}

/** A weighted task's payload: the bench's payload plus its queue and priority, for the worker's counts. */
export type WeightedPayload = BenchPayload & { readonly q: string; readonly p: number };

/** Payloads `from` .. `from + count - 1` of queue `queue`, each with its priority. */
export function weightedPayloads(queue: string, count: number, from: number, t: number): WeightedPayload[] {
  const out: WeightedPayload[] = new Array<WeightedPayload>(count);
  for (let k = 0; k < count; k++) out[k] = { ...payload(from + k, t), q: queue, p: priorityOf(from + k) };
  return out;
}

/** Fewer handled tasks than this in a queue: too few to judge their order. */
const MIN_ORDER_SAMPLE = 40;
/** How much higher the first quarter's mean priority must be than the last quarter's. */
const MIN_ORDER_GAP = 2;

/**
 * Whether a queue's tasks ran high priorities first: `priorities` in the
 * order their handlers started. Run by priority, the first quarter's mean is
 * about 8 and the last's about 1 with priorities drawn evenly from 0–9; run
 * in enqueue order both are about 4.5. Returns why not, or undefined (also
 * when there are too few to tell).
 */
export function priorityOrderProblem(priorities: readonly number[]): string | undefined {
  const n = priorities.length;
  if (n < MIN_ORDER_SAMPLE) return undefined;
  const quarter = Math.floor(n / 4);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(priorities.slice(0, quarter));
  const last = mean(priorities.slice(n - quarter));
  if (first - last >= MIN_ORDER_GAP) return undefined;
  return `priorities not honoured: mean priority ${first.toFixed(2)} in the first quarter of ${n} tasks run, ${last.toFixed(2)} in the last`;
}

/**
 * What is wrong with a weighted run, from the worker's report: a queue
 * whose handled count is not the number enqueued into it (lost or run
 * twice), a queue the worker reported that was not enqueued into, or
 * priorities not honoured. Empty when all is well.
 */
export function weightedRunProblems(
  expected: ReadonlyMap<string, number>,
  prioritiesByQueue: Readonly<Record<string, readonly number[]>>,
): string[] {
  const problems: string[] = [];
  for (const [queue, count] of expected) {
    const ran = prioritiesByQueue[queue] ?? [];
    if (ran.length !== count) problems.push(`queue ${queue}: the worker ran ${ran.length} of ${count} task(s)`);
    const order = priorityOrderProblem(ran);
    if (order !== undefined) problems.push(`queue ${queue}: ${order}`);
  }
  for (const queue of Object.keys(prioritiesByQueue)) {
    if (!expected.has(queue) && (prioritiesByQueue[queue]?.length ?? 0) > 0) problems.push(`queue ${queue}: not one of the scenario's queues`);
  }
  return problems;
}
