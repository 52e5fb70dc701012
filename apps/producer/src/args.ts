import yargs, { type Argv } from 'yargs';
import { positiveInt, withCommonOptions } from '@taskq/app-kit';
import { idProblem, MAX_FLOW_STEPS } from '@taskq/queue';

/** Most chains of a --flow run: 3 steps each and the callback within a flow's MAX_FLOW_STEPS. */
export const MAX_FLOW_CHAINS = Math.floor((MAX_FLOW_STEPS - 1) / 3);

/**
 * Most tasks one run enqueues. Memory does not grow with the count while
 * enqueueing (one batch at a time) and a waiting run keeps one bit per task,
 * but a billion tasks already need well over 100 GB of Redis memory.
 */
export const MAX_COUNT = 1_000_000_000;

/** The count of a run: decimal digits, 1 to MAX_COUNT. */
export function parseCount(value: unknown): number {
  return positiveInt('count', value, MAX_COUNT);
}

/** Options of the producer (which adds --wait) and of the demo (which adds --concurrency and always waits). */
export function producerOptions<T>(y: Argv<T>) {
  return withCommonOptions(
    y
      .command('$0 [count]', false, (c) =>
        c.positional('count', { describe: `how many tasks to enqueue (decimal digits, 1 to ${MAX_COUNT})`, type: 'string', default: '20' }),
      )
      .option('min-ms', { type: 'number', default: 1000, describe: 'shortest task duration' })
      .option('max-ms', { type: 'number', default: 5000, describe: 'longest task duration' })
      .option('fail-rate', {
        type: 'number',
        default: 0,
        describe: 'share (0..1) of tasks whose first attempts throw (1..max-attempts of them): shows retries and dead letters',
      })
      .option('max-attempts', { type: 'number', default: 3, describe: 'executions allowed per task before it is Dead' })
      .option('retry-delay-ms', { type: 'number', default: 1000, describe: 'wait between a failed attempt and the next' })
      .option('priority', { type: 'number', default: 5, describe: "the tasks' priority, 0-9: among ready tasks a higher one runs first" })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary as the last stdout line' })
      .option('timeout-ms', { type: 'number', default: 0, describe: 'stop waiting after this many ms (0: no limit)' })
      .option('flow', {
        type: 'boolean',
        default: false,
        describe: `instead of COUNT tasks, add a flow: COUNT chains of 3 sleep steps side by side and a chord callback that runs once every chain is Done; follow it to its end`,
      })
      .option('flow-policy', {
        choices: ['failFast', 'continue'] as const,
        default: 'failFast' as const,
        describe: 'with --flow: failFast (a Dead step cancels the rest) or continue (the callback runs with the errors)',
      })
      .option('wait-replicas', {
        type: 'number',
        default: 0,
        describe: 'after each batch, wait until this many replicas have its tasks (Redis WAIT, up to --wait-replicas-timeout-ms); fewer: exit 1 naming them (0: do not wait)',
      })
      .option('wait-replicas-timeout-ms', { type: 'number', default: 1000, describe: 'how long --wait-replicas waits for the replicas' })
      .option('id-prefix', {
        type: 'string',
        describe: 'task ids are <prefix><n>',
        defaultDescription: '"task_<run>_" (a fresh run tag, so runs never collide)',
      }),
  ).check((a) => {
    parseCount(a.count);
    for (const k of ['min-ms', 'max-ms'] as const) {
      if (!Number.isInteger(a[k]) || a[k] < 0) throw new Error(`--${k} must be a whole number >= 0, got ${a[k]}`);
    }
    if (a['min-ms'] > a['max-ms']) throw new Error(`--min-ms (${a['min-ms']}) must not exceed --max-ms (${a['max-ms']})`);
    if (!Number.isInteger(a['timeout-ms']) || a['timeout-ms'] < 0) throw new Error('--timeout-ms must be a whole number >= 0');
    const rate = a['fail-rate'];
    if (!(typeof rate === 'number' && rate >= 0 && rate <= 1)) throw new Error(`--fail-rate must be between 0 and 1, got ${rate}`);
    positiveInt('--max-attempts', a['max-attempts']);
    if (!Number.isInteger(a['wait-replicas']) || a['wait-replicas'] < 0) throw new Error(`--wait-replicas must be a whole number >= 0, got ${a['wait-replicas']}`);
    if (!Number.isInteger(a['wait-replicas-timeout-ms']) || a['wait-replicas-timeout-ms'] < 0) {
      throw new Error(`--wait-replicas-timeout-ms must be a whole number >= 0, got ${a['wait-replicas-timeout-ms']}`);
    }
    if (!Number.isInteger(a['retry-delay-ms']) || a['retry-delay-ms'] < 0) throw new Error('--retry-delay-ms must be a whole number >= 0');
    if (!(Number.isInteger(a.priority) && a.priority >= 0 && a.priority <= 9)) throw new Error(`--priority must be a whole number from 0 to 9, got ${a.priority}`);
    // the rule of task ids (@taskq/queue), checked here so that a bad prefix is a usage error
    const problem = a['id-prefix'] === undefined ? undefined : idProblem(a['id-prefix'], 0, 200);
    if (problem !== undefined) {
      throw new Error(
        `--id-prefix must be at most 200 characters without spaces, quotes, backslashes or control characters, got ${JSON.stringify(a['id-prefix'])}: ${problem}`,
      );
    }
    if (a.flow && /[{}]/.test(a['id-prefix'] ?? '')) throw new Error('--id-prefix of a --flow run names the flow (<prefix>flow): no braces');
    if (a.flow && parseCount(a.count) > MAX_FLOW_CHAINS) throw new Error(`--flow takes at most ${MAX_FLOW_CHAINS} chains (a flow has at most ${MAX_FLOW_STEPS} steps), got ${String(a.count)}`);
    if (a['id-prefix'] !== undefined && /^\d*$/.test(a['id-prefix'])) {
      throw new Error('--id-prefix needs a character other than a digit (all-digit task ids are the generated ones)');
    }
    return true;
  });
}

export { yargs };
