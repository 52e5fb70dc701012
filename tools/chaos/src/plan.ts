import type { TaskInput } from '@taskq/queue';
import { createPrng, shuffle } from './prng';

/**
 * How a planned task behaves, through the built-in `sleep` handler, which
 * throws while `attempt <= payload.failAttempts`:
 * - `ok`: never fails, ends Done after 1 attempt;
 * - `fail-once`: fails its first attempt, ends Done after 2;
 * - `fail-always`: fails every attempt, ends Dead after `maxAttempts`.
 */
export type TaskKind = 'ok' | 'fail-once' | 'fail-always';

/** Executions every task is allowed (first run included). */
export const MAX_ATTEMPTS = 3;
/** Wait between a failed attempt and the next, ms: short, so retries do not stretch the run. */
export const RETRY_DELAY_MS = 50;
/** failAttempts of a task that must never succeed (well above MAX_ATTEMPTS). */
const ALWAYS = 99;

export interface PlannedTask {
  readonly id: string;
  readonly kind: TaskKind;
  /** How long the handler sleeps, ms. */
  readonly ms: number;
  /** The handler throws while the attempt is <= this. */
  readonly failAttempts: number;
  readonly expectedStatus: 'Done' | 'Dead';
  /** Executions the task needs when nothing goes wrong (no worker killed under it). */
  readonly expectedAttempts: number;
  /** 0-9, drawn uniformly: every path that takes a task back (release, recovery, reconcile) meets prioritized tasks. */
  readonly priority: number;
  /** The queue it goes to: one of PlanOptions.queues, drawn uniformly. */
  readonly queue: string;
}

export interface PlanOptions {
  readonly tasks: number;
  readonly seed: number;
  /** Share of tasks that fail once, 0-1. */
  readonly failOnceShare: number;
  /** Share of tasks that always fail, 0-1. */
  readonly failAlwaysShare: number;
  /** Longest handler duration, ms; durations are uniform in [0, maxMs]. */
  readonly maxMs: number;
  /** Prefix of the task ids. Default `t`. */
  readonly idPrefix?: string;
  /** The queues the tasks are spread over (ids stay unique across them). Default `['chaos']`. */
  readonly queues?: readonly string[];
}

const EXPECTED: Readonly<Record<TaskKind, Pick<PlannedTask, 'failAttempts' | 'expectedStatus' | 'expectedAttempts'>>> = {
  ok: { failAttempts: 0, expectedStatus: 'Done', expectedAttempts: 1 },
  'fail-once': { failAttempts: 1, expectedStatus: 'Done', expectedAttempts: 2 },
  'fail-always': { failAttempts: ALWAYS, expectedStatus: 'Dead', expectedAttempts: MAX_ATTEMPTS },
};

/** The attempts a task of `kind` needs when no execution is interrupted. */
export function expectedAttempts(kind: TaskKind): number {
  return EXPECTED[kind].expectedAttempts;
}

/**
 * The tasks of a run: exactly round(tasks * share) of each failing kind, at
 * positions and with durations drawn from the seeded generator.
 */
export function makePlan(options: PlanOptions): PlannedTask[] {
  const { tasks, seed, failOnceShare, failAlwaysShare, maxMs } = options;
  if (failOnceShare < 0 || failAlwaysShare < 0 || failOnceShare + failAlwaysShare > 1) {
    throw new RangeError(`failure shares must be >= 0 and add up to at most 1, got ${failOnceShare} + ${failAlwaysShare}`);
  }
  const prng = createPrng(seed);
  const failOnce = Math.round(tasks * failOnceShare);
  const failAlways = Math.min(tasks - failOnce, Math.round(tasks * failAlwaysShare));
  const kinds: TaskKind[] = [
    ...Array<TaskKind>(failOnce).fill('fail-once'),
    ...Array<TaskKind>(failAlways).fill('fail-always'),
    ...Array<TaskKind>(tasks - failOnce - failAlways).fill('ok'),
  ];
  shuffle(kinds, prng);
  const width = String(tasks).length;
  const prefix = options.idPrefix ?? 't';
  const queues = options.queues ?? ['chaos'];
  if (queues.length === 0) throw new RangeError('a plan needs at least one queue');
  // a generator of its own: the kinds, durations and priorities of a seed stay what they were
  const spread = createPrng(seed ^ 0x2545f491);
  return kinds.map((kind, i) => ({
    id: `${prefix}${String(i + 1).padStart(width, '0')}`,
    kind,
    ms: prng.int(0, maxMs),
    priority: prng.int(0, 9),
    queue: queues[spread.int(0, queues.length - 1)],
    ...EXPECTED[kind],
  }));
}

/** The enqueue input of a planned task. */
export function toTaskInput(task: PlannedTask): TaskInput<{ ms: number; failAttempts: number }> {
  return {
    id: task.id,
    type: 'sleep',
    payload: { ms: task.ms, failAttempts: task.failAttempts },
    maxAttempts: MAX_ATTEMPTS,
    backoff: { type: 'fixed', delayMs: RETRY_DELAY_MS },
    priority: task.priority,
  };
}
