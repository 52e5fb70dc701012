import yargs from 'yargs';
import { throwingUsage, UsageError } from '@taskq/app-kit';
import { MAX_STEPS_PER_FLOW } from './flow-plan';

/** What a chaos run does; every field has a command-line flag. */
export interface ChaosOptions {
  /** Tasks to enqueue. Default 5000; at most 10000 (the default retention keeps 10000 finished tasks). */
  readonly tasks: number;
  /** Worker processes kept running. Default 3. */
  readonly workers: number;
  /** Sub-workers per worker process. Default 8. */
  readonly concurrency: number;
  /** Time every task gets to become final, from the first enqueue, ms. Default 90000. */
  readonly durationLimitMs: number;
  /** Seed of the task plan and of the choice of victims. Default: random (printed). */
  readonly seed: number;
  /** SIGKILL a random worker (and start a replacement) this often, ms; 0: never. Default 2000. */
  readonly killEveryMs: number;
  /** Restart redis-server once this share of the tasks is final (0-1); 0: never. Default 0.4. */
  readonly restartRedisAt: number;
  /** Share of tasks that fail their first attempt. Default 0.10. */
  readonly failOnce: number;
  /** Share of tasks that fail every attempt. Default 0.05. */
  readonly failAlways: number;
  /**
   * Longest task duration, ms (uniform in 0..max). Default 20: short tasks
   * mean many fetches in flight when Redis restarts. 200 makes a longer run
   * (some 35 s, 15 kills) with more tasks in flight per kill.
   */
  readonly maxMs: number;
  /**
   * Longest an attempt may hold a task InProgress, ms, before the run fails:
   * a killed worker's tasks must be back within seconds (stale limit 1.5 s
   * plus a janitor pass). Default 10000.
   */
  readonly maxHoldMs: number;
  /**
   * Flows added while the workers are being killed (chains, chords, diamonds;
   * some failing under failFast or continue; see flow-plan.ts). Default 60; 0: none.
   */
  readonly flows: number;
  /** Print worker stderr and monitor warnings. Default false. */
  readonly verbose: boolean;
  /** Keep every worker's output in this directory. Default: not kept. */
  readonly logDir: string | undefined;
  /**
   * Run the workers as a Redis user limited by the README's minimal rule
   * (`~taskq:* &taskq:* +@all -@dangerous`). Default false (the default user).
   */
  readonly aclUser: boolean;
  /** Workers run with --hand-off (WorkerPool handOff: true). */
  readonly handOff: boolean;
  /**
   * Run on a Redis Cluster of 3 masters (each with the AOF), the three queues
   * on three different masters, the workers given its `redis+cluster://` URL;
   * the restart is one master's. Default false (one redis-server).
   */
  readonly cluster: boolean;
}

/** Most tasks: beyond the default retention (maxCount 10000) Done records are forgotten and would count as lost. */
export const MAX_TASKS = 10_000;

export { UsageError };

const wholeAtLeast = (name: string, value: number, min: number): void => {
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got ${value}`);
};
const share = (name: string, value: number): void => {
  if (!(value >= 0 && value <= 1)) throw new UsageError(`--${name} must be between 0 and 1, got ${value}`);
};

/** Parses the chaos CLI flags (strict: unknown flags are errors). Throws UsageError. */
export function parseArgs(argv: readonly string[]): ChaosOptions {
  const parser = yargs([...argv])
    .scriptName('chaos')
    .usage(
      '$0 [options]\n\n' +
        'Runs taskq under failure: its own redis-server (AOF, fsync always), worker processes ' +
        'SIGKILLed and replaced, one redis-server restart (with --cluster: a Redis Cluster of 3 masters, one of them ' +
        'restarted); then checks that no task was lost, ' +
        'stuck or flipped. Exit 0: all checks passed; 1: a check failed; 2: bad usage or the ' +
        'run could not be carried out; 130: interrupted.',
    )
    .option('tasks', { type: 'number', default: 5000, describe: `tasks to enqueue (1-${MAX_TASKS})` })
    .option('workers', { type: 'number', default: 3, describe: 'worker processes kept running' })
    .option('concurrency', { type: 'number', default: 8, describe: 'sub-workers per worker process' })
    .option('duration-limit-ms', { type: 'number', default: 90_000, describe: 'time all tasks get to become final, from the first enqueue' })
    .option('seed', { type: 'number', describe: 'seed of the task plan and the victims', defaultDescription: 'random, printed' })
    .option('kill-every-ms', { type: 'number', default: 2000, describe: 'SIGKILL a random worker this often (0: never)' })
    .option('restart-redis-at', { type: 'number', default: 0.4, describe: 'restart redis-server once this share of tasks is final (0: never)' })
    .option('fail-once', { type: 'number', default: 0.1, describe: 'share of tasks that fail their first attempt' })
    .option('fail-always', { type: 'number', default: 0.05, describe: 'share of tasks that fail every attempt (end Dead)' })
    .option('max-ms', { type: 'number', default: 150, describe: 'longest task duration, ms (uniform in 0..max)' })
    .option('max-hold-ms', { type: 'number', default: 10_000, describe: 'fail when an attempt holds a task InProgress longer than this' })
    .option('flows', { type: 'number', default: 60, describe: 'flows added during the run (chains, chords, diamonds; some failing), 0: none' })
    .option('verbose', { type: 'boolean', default: false, describe: 'print worker stderr and monitor warnings' })
    .option('log-dir', { type: 'string', describe: "keep every worker's output in this directory (worker-<n>-<pid>.log)" })
    .option('hand-off', { type: 'boolean', default: false, describe: "run the workers with --hand-off (tasks taken in the wake message, see the README's Hand-off)" })
    .option('acl-user', { type: 'boolean', default: false, describe: 'run the workers as a Redis user limited to ~taskq:* &taskq:* +@all -@dangerous' })
    .option('cluster', { type: 'boolean', default: false, describe: 'run on a Redis Cluster of 3 masters (AOF each), the queues on different masters; restart one master' });
  const a = throwingUsage(parser).parseSync();

  const options: ChaosOptions = {
    tasks: a.tasks,
    workers: a.workers,
    concurrency: a.concurrency,
    durationLimitMs: a['duration-limit-ms'],
    seed: a.seed ?? Math.floor(Math.random() * 2 ** 31),
    killEveryMs: a['kill-every-ms'],
    restartRedisAt: a['restart-redis-at'],
    failOnce: a['fail-once'],
    failAlways: a['fail-always'],
    maxMs: a['max-ms'],
    maxHoldMs: a['max-hold-ms'],
    flows: a.flows,
    verbose: a.verbose,
    logDir: a['log-dir'],
    aclUser: a['acl-user'],
    handOff: a['hand-off'],
    cluster: a.cluster,
  };
  if (options.cluster && options.aclUser) throw new UsageError('--acl-user runs on one redis-server only: give --cluster or --acl-user, not both');
  wholeAtLeast('tasks', options.tasks, 1);
  if (options.tasks > MAX_TASKS) throw new UsageError(`--tasks must be at most ${MAX_TASKS}, got ${options.tasks}`);
  wholeAtLeast('flows', options.flows, 0);
  if (options.tasks + options.flows * MAX_STEPS_PER_FLOW > MAX_TASKS) {
    throw new UsageError(`--tasks plus the flows' steps (up to ${MAX_STEPS_PER_FLOW} per flow) must be at most ${MAX_TASKS}, got ${options.tasks} + ${options.flows} x ${MAX_STEPS_PER_FLOW}`);
  }
  wholeAtLeast('workers', options.workers, 1);
  wholeAtLeast('concurrency', options.concurrency, 1);
  wholeAtLeast('duration-limit-ms', options.durationLimitMs, 1);
  wholeAtLeast('seed', options.seed, 0);
  wholeAtLeast('kill-every-ms', options.killEveryMs, 0);
  wholeAtLeast('max-ms', options.maxMs, 0);
  wholeAtLeast('max-hold-ms', options.maxHoldMs, 1);
  share('restart-redis-at', options.restartRedisAt);
  share('fail-once', options.failOnce);
  share('fail-always', options.failAlways);
  if (options.failOnce + options.failAlways > 1) throw new UsageError('--fail-once plus --fail-always must be at most 1');
  return options;
}
