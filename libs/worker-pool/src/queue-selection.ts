import { assertQueueName } from '@taskq/queue';

/**
 * The queues a pool serves: one (`queue`), or several (`queues`) by weight
 * or in strict order.
 */
export interface QueueSelectionOptions {
  readonly queue?: string;
  /**
   * Several queues for one pool (one consumer id, heartbeat, janitor and
   * subscriber for all of them). `{ critical: 6, default: 3, low: 1 }`:
   * weighted — a free sub-worker takes from a queue in proportion to its
   * weight, among the queues that have ready tasks. `['critical', 'default']`:
   * strict — always from the first queue that has ready tasks. Replaces
   * `queue` (which, if given, must be one of them).
   */
  readonly queues?: Readonly<Record<string, number>> | readonly string[];
  /**
   * With `queues` by weight: take from the queue of the highest weight that
   * has ready tasks (ties: in the order given), not in proportion. Default:
   * false for weights, true for a list.
   */
  readonly strict?: boolean;
}

/** The queues a pool serves, resolved: names (in the order strict takes them), their weights, and the rule. */
export interface QueueSelection {
  readonly names: readonly string[];
  readonly weights: readonly number[];
  readonly strict: boolean;
}

/** Largest weight a queue may have. */
export const MAX_QUEUE_WEIGHT = 1_000_000;

/** Checks and orders a pool's queue options; throws a RangeError naming what is wrong. */
export function resolveQueueSelection(options: QueueSelectionOptions): QueueSelection {
  const { queues } = options;
  if (queues === undefined) {
    if (options.strict !== undefined) throw new RangeError('strict applies to several queues: give `queues` too');
    return { names: [options.queue ?? 'default'], weights: [1], strict: false };
  }
  const list = Array.isArray(queues);
  const entries: [string, number][] = list ? (queues as readonly string[]).map((name) => [name, 1]) : Object.entries(queues as Record<string, number>);
  if (entries.length === 0) throw new RangeError('queues must name at least one queue');
  const seen = new Set<string>();
  for (const [name, weight] of entries) {
    if (typeof name !== 'string') throw new RangeError(`queues: a queue name must be a string, got ${JSON.stringify(name)}`);
    assertQueueName(name);
    if (seen.has(name)) throw new RangeError(`queues: ${name} is given twice`);
    seen.add(name);
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_QUEUE_WEIGHT) {
      throw new RangeError(`queues: the weight of ${name} must be a whole number from 1 to ${MAX_QUEUE_WEIGHT}, got ${JSON.stringify(weight)}`);
    }
  }
  if (options.queue !== undefined && !seen.has(options.queue)) {
    throw new RangeError(`queue ${options.queue} is not one of queues (${[...seen].join(', ')}): give one or the other`);
  }
  const strict = options.strict ?? list;
  // strict by weight: the highest first; sort is stable, so ties keep the order given
  if (strict && !list) entries.sort((a, b) => b[1] - a[1]);
  return { names: entries.map((e) => e[0]), weights: entries.map((e) => e[1]), strict };
}

/**
 * Parses the worker CLI's `--queues critical:6,default:3,low:1` (a name
 * without a weight weighs 1). Throws an Error naming the bad part.
 */
export function parseQueueWeights(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const parts = text.split(',').map((p) => p.trim());
  for (const part of parts) {
    if (part === '') throw new Error(`--queues: an empty entry in ${JSON.stringify(text)} (expected name:weight,name:weight,…)`);
    const colon = part.lastIndexOf(':');
    // a queue name may hold colons: only a trailing ':<digits>' is a weight
    const weighted = colon > 0 && /^\d+$/.test(part.slice(colon + 1));
    const name = weighted ? part.slice(0, colon) : part;
    const weight = weighted ? Number(part.slice(colon + 1)) : 1;
    if (part.endsWith(':')) throw new Error(`--queues: ${JSON.stringify(part)} has no weight after the colon`);
    if (Object.hasOwn(out, name)) throw new Error(`--queues: ${name} is given twice`);
    out[name] = weight;
  }
  // names and weights are checked as the pool checks them
  resolveQueueSelection({ queues: out });
  return out;
}

/**
 * Splits free sub-workers among queues. Weighted: smooth weighted round
 * robin (as nginx balances upstreams), so over any run of picks each queue
 * that had room gets its weight's share exactly, interleaved rather than in
 * bursts, with no randomness. Strict: the first queue with room takes all.
 */
export class QueuePicker {
  private readonly current: number[];

  constructor(private readonly selection: QueueSelection) {
    this.current = selection.weights.map(() => 0);
  }

  /**
   * Hands out `n` sub-workers; `room[i]`: how many queue i may take now (0:
   * it is known to be empty or paused). Returns how many each queue gets;
   * fewer than `n` in all when the queues have less room.
   */
  split(n: number, room: readonly number[]): number[] {
    const out = room.map(() => 0);
    for (let k = 0; k < n; k++) {
      const i = this.pick(room, out);
      if (i < 0) break;
      out[i]++;
    }
    return out;
  }

  private pick(room: readonly number[], taken: readonly number[]): number {
    const { weights, strict } = this.selection;
    if (strict) return room.findIndex((r, i) => r > taken[i]);
    let best = -1;
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      if (room[i] <= taken[i]) continue;
      this.current[i] += weights[i];
      total += weights[i];
      if (best < 0 || this.current[i] > this.current[best]) best = i;
    }
    if (best >= 0) this.current[best] -= total;
    return best;
  }
}
