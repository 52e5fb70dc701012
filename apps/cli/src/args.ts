import yargs, { type Argv, type Arguments } from 'yargs';
import { positiveInt, withConnectionOptions, type ConnectionArgs } from '@taskq/app-kit';
import { assertQueueName, DEFAULT_KEY_PREFIX, MAX_FLOW_NAME_LENGTH, DEFAULT_LIST_LIMIT, DEFAULT_QUEUE, idProblem, LISTABLE_STATUSES, MAX_LIST_LIMIT, payloadProblem, type JsonValue, type ListableStatus } from '@taskq/queue';
import { parseJsonArgument } from './json-argument';

/** Exit codes of `taskq` (the apps' three, and one for "not found"). */
export const CLI_EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  done
  1  failure: Redis unreachable (the error names the address), or the command refused
  2  bad arguments: the usage and the error on stderr, nothing done
  3  not found: a task named is not in the queue, or a flow named is not kept`;

/** Options of every command. */
export interface GlobalArgs extends ConnectionArgs {
  json: boolean;
  prefix: string;
}

/** The command line, parsed and checked. */
export type Command =
  | { readonly name: 'stats'; readonly queues: readonly string[] }
  | { readonly name: 'queue ls' }
  | { readonly name: 'queue pause'; readonly queue: string; readonly reason: string }
  | { readonly name: 'queue resume'; readonly queue: string }
  | { readonly name: 'queue purge'; readonly queue: string; readonly yes: boolean; readonly force: boolean }
  | { readonly name: 'task ls'; readonly queue: string; readonly status: ListableStatus; readonly limit: number; readonly cursor?: string }
  | { readonly name: 'task show'; readonly queue: string; readonly id: string }
  | { readonly name: 'task cancel'; readonly queue: string; readonly id: string; readonly waitMs: number }
  | { readonly name: 'task retry'; readonly queue: string; readonly id: string }
  | { readonly name: 'dead ls'; readonly queue: string; readonly limit: number; readonly cursor?: string }
  | { readonly name: 'dead requeue'; readonly queue: string; readonly ids: readonly string[]; readonly all: boolean }
  | {
      readonly name: 'enqueue';
      readonly queue: string;
      readonly type: string;
      readonly payload: JsonValue;
      readonly id?: string;
      readonly priority?: number;
      readonly delayMs?: number;
      readonly maxAttempts?: number;
    }
  | { readonly name: 'watch'; readonly queues: readonly string[] }
  | { readonly name: 'flow ls'; readonly limit: number; readonly offset: number }
  | { readonly name: 'flow show'; readonly id: string }
  | { readonly name: 'flow cancel'; readonly id: string; readonly waitMs: number };

export interface Parsed {
  readonly global: GlobalArgs;
  readonly command: Command;
}

/** A queue name argument: checked, so that a bad one is a usage error. */
function queueArg(what: string, value: unknown): string {
  const name = String(value);
  try {
    assertQueueName(name);
  } catch {
    throw new Error(`${what}: invalid queue name ${JSON.stringify(name)} (1-200 of A-Z a-z 0-9 _ . : -)`);
  }
  return name;
}

/** The values of a repeatable string option (`--queue a --queue b`), each a queue name. */
function queueList(value: unknown): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((v) => queueArg('--queue', v));
}

function taskIdArg(value: unknown): string {
  const id = String(value);
  const problem = idProblem(id, 1, 256);
  if (problem !== undefined) throw new Error(`invalid task id ${JSON.stringify(id)}: ${problem}`);
  return id;
}

/** A flow id argument (task id rules, 1-100 characters, no braces). */
function flowIdArg(value: unknown): string {
  const id = String(value);
  const problem = /[{}]/.test(id) ? 'a brace' : idProblem(id, 1, MAX_FLOW_NAME_LENGTH);
  if (problem !== undefined) throw new Error(`invalid flow id ${JSON.stringify(id)}: ${problem}`);
  return id;
}

function wholeAtLeast0(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  return value;
}

const queuePositional = <T>(y: Argv<T>) => withExitCodes(y).positional('queue', { type: 'string', describe: 'queue name', demandOption: true });
/** The exit codes at the end of a command's --help (yargs shows a command's own epilogue only). */
const withExitCodes = <T>(y: Argv<T>): Argv<T> => y.epilogue(EXIT_CODES_HELP);
const idPositional = <T>(y: Argv<T>) => queuePositional(y).positional('id', { type: 'string', demandOption: true, describe: 'task id' });
const limitOption = <T>(y: Argv<T>) =>
  y
    .option('limit', { type: 'number', default: DEFAULT_LIST_LIMIT, describe: `list at most this many (1-${MAX_LIST_LIMIT})` })
    .option('cursor', { type: 'string', describe: 'the next page: the cursor the page before printed' });
/** --cursor as given ('' is the first page, as none). */
const cursorArg = (value: unknown): { cursor?: string } => (typeof value === 'string' && value !== '' ? { cursor: value } : {});

/**
 * Parses `taskq …`. Bad arguments print the usage of the command and the
 * error on stderr and exit 2 (withConnectionOptions), before anything
 * connects to Redis.
 */
export function parseArgs(argv: readonly string[]): Parsed {
  let command: Command | undefined;
  // Each command's rules run in its check, which builds the Command: a broken
  // rule is a usage error (the command's usage, the error, exit 2), as yargs'
  // own are; an error thrown by a handler would not be.
  const leaf =
    <T, U>(builder: (y: Argv<T>) => Argv<U>, make: (a: Arguments<U>) => Command) =>
    (y: Argv<T>): Argv<U> =>
      builder(y).check((a) => {
        command = make(a);
        return true;
      });
  const done = (): void => undefined;
  const global = withConnectionOptions(
    yargs([...argv])
      .scriptName('taskq')
      .usage('$0 <command> [options]\n\nInspect and operate taskq queues on Redis (the same libraries as the apps; no API in between).')
      .option('json', { type: 'boolean', default: false, describe: 'machine output: one JSON document on stdout (watch: one JSON line per event)' })
      .option('prefix', { type: 'string', default: DEFAULT_KEY_PREFIX, describe: 'key prefix of the queues (no braces)' })
      .command(
        'stats',
        'task counts of every queue (or of those given with --queue): ready, delayed, in progress, dead, failed, finished, workers, paused, oldest ready',
        leaf(
          (y) => withExitCodes(y).option('queue', { type: 'string', array: true, describe: 'only this queue (repeatable)' }),
          (a) => ({ name: 'stats', queues: queueList(a.queue) }),
        ),
        done,
      )
      .command('queue', 'list, pause, resume or purge queues', (y) =>
        withExitCodes(y)
          .command('ls', 'the queues (any key under the prefix): workers, paused or not', leaf(withExitCodes, () => ({ name: 'queue ls' })), done)
          .command(
            'pause <queue>',
            'pause a queue: workers take no task from it until it is resumed (enqueues go on, running tasks finish)',
            leaf(
              (c) => queuePositional(c).option('reason', { type: 'string', default: '', describe: 'why, shown by workers, monitors and stats' }),
              (a) => ({ name: 'queue pause', queue: queueArg('queue', a.queue), reason: a.reason }),
            ),
            done,
          )
          .command(
            'resume <queue>',
            'resume a paused queue (idle workers are woken at once)',
            leaf(queuePositional, (a) => ({ name: 'queue resume', queue: queueArg('queue', a.queue) })),
            done,
          )
          .command(
            'purge <queue>',
            "delete every key of the queue (<prefix>:{<queue>}:*): its tasks of every status, records, history, schedules, limits, pause; other queues' keys are not touched",
            leaf(
              (c) =>
                queuePositional(c)
                  .option('yes', { type: 'boolean', default: false, describe: 'do not ask (needed when stdin is not a terminal)' })
                  .option('force', { type: 'boolean', default: false, describe: 'purge even while workers are registered on the queue' }),
              (a) => ({ name: 'queue purge', queue: queueArg('queue', a.queue), yes: a.yes, force: a.force }),
            ),
            done,
          )
          .demandCommand(1, 'name a queue command: ls, pause, resume or purge'),
      )
      .command('task', 'list, show, cancel or retry tasks', (y) =>
        withExitCodes(y)
          .command(
            'ls <queue>',
            'tasks of one status, a page at a time: in the order they run (Queued, Delayed, Retrying) or newest first; the next page with the --cursor printed',
            leaf(
              (c) => limitOption(queuePositional(c).option('status', { choices: LISTABLE_STATUSES, demandOption: true, describe: 'which tasks' })),
              (a) => ({ name: 'task ls', queue: queueArg('queue', a.queue), status: a.status, limit: positiveInt('--limit', a.limit, MAX_LIST_LIMIT), ...cursorArg(a.cursor) }),
            ),
            done,
          )
          .command(
            'show <queue> <id>',
            "a task's status record, attempt, worker, payload and the history of its failed attempts",
            leaf(idPositional, (a) => ({ name: 'task show', queue: queueArg('queue', a.queue), id: taskIdArg(a.id) })),
            done,
          )
          .command(
            'cancel <queue> <id>',
            'cancel a task that has not finished (a running one: its worker aborts its handler)',
            leaf(
              (c) => idPositional(c).option('wait-ms', { type: 'number', default: 5000, describe: 'how long to wait for a running task to stop' }),
              (a) => ({ name: 'task cancel', queue: queueArg('queue', a.queue), id: taskIdArg(a.id), waitMs: wholeAtLeast0('--wait-ms', a['wait-ms']) }),
            ),
            done,
          )
          .command(
            'retry <queue> <id>',
            'run a Dead or Failed task again (back to the queue, attempts starting over)',
            leaf(idPositional, (a) => ({ name: 'task retry', queue: queueArg('queue', a.queue), id: taskIdArg(a.id) })),
            done,
          )
          .demandCommand(1, 'name a task command: ls, show, cancel or retry'),
      )
      .command('dead', 'the dead-letter list', (y) =>
        withExitCodes(y)
          .command(
            'ls <queue>',
            'Dead tasks, newest first, with their last error; the next page with the --cursor printed',
            leaf(
              (c) => limitOption(queuePositional(c)),
              (a) => ({ name: 'dead ls', queue: queueArg('queue', a.queue), limit: positiveInt('--limit', a.limit, MAX_LIST_LIMIT), ...cursorArg(a.cursor) }),
            ),
            done,
          )
          .command(
            'requeue <queue> [ids..]',
            'move Dead tasks back to the queue (attempts start over): the ids given, or --all',
            leaf(
              (c) =>
                queuePositional(c)
                  .positional('ids', { type: 'string', array: true, describe: 'task ids' })
                  .option('all', { type: 'boolean', default: false, describe: 'every task of the dead-letter list' }),
              (a) => {
                const ids = (a.ids ?? []).map(taskIdArg);
                if (a.all && ids.length > 0) throw new Error('give task ids or --all, not both');
                if (!a.all && ids.length === 0) throw new Error('give the ids of the tasks to requeue, or --all');
                return { name: 'dead requeue', queue: queueArg('queue', a.queue), ids, all: a.all };
              },
            ),
            done,
          )
          .demandCommand(1, 'name a dead command: ls or requeue'),
      )
      .command(
        'enqueue <type> <payload>',
        'enqueue one task whose payload is the JSON text <payload>; prints its id',
        leaf(
          (y) =>
            withExitCodes(y)
              .positional('type', { type: 'string', demandOption: true, describe: 'task type (selects the handler)' })
              .positional('payload', { type: 'string', demandOption: true, describe: 'the payload: JSON (quote it for the shell)' })
              .option('queue', { type: 'string', default: DEFAULT_QUEUE, describe: 'queue name' })
              .option('id', { type: 'string', describe: 'task id (default: generated); an id that exists already is left as it is' })
              .option('priority', { type: 'number', describe: '0-9, higher runs first [default: 5]' })
              .option('delay-ms', { type: 'number', describe: 'run no earlier than this many ms from now' })
              .option('max-attempts', { type: 'number', describe: 'executions allowed before the task is Dead [default: 3]' }),
          (a) => {
            const type = String(a.type);
            if (type.length < 1 || type.length > 200) throw new Error(`<type> must be 1-200 characters, got ${JSON.stringify(type)}`);
            const payload = parseJsonArgument('<payload>', String(a.payload));
            const problem = payloadProblem(payload);
            if (problem !== undefined) throw new Error(`<payload>: ${problem}`);
            if (a.id !== undefined && /^\d+$/.test(a.id)) throw new Error(`--id ${JSON.stringify(a.id)}: all-digit task ids are the generated ones; add a character other than a digit`);
            const priority = a.priority;
            if (priority !== undefined && !(Number.isInteger(priority) && priority >= 0 && priority <= 9)) {
              throw new Error(`--priority must be a whole number from 0 to 9, got ${JSON.stringify(priority)}`);
            }
            return {
              name: 'enqueue',
              queue: queueArg('--queue', a.queue),
              type,
              payload,
              ...(a.id !== undefined ? { id: taskIdArg(a.id) } : {}),
              ...(priority !== undefined ? { priority } : {}),
              ...(a['delay-ms'] !== undefined ? { delayMs: wholeAtLeast0('--delay-ms', a['delay-ms']) } : {}),
              ...(a['max-attempts'] !== undefined ? { maxAttempts: positiveInt('--max-attempts', a['max-attempts']) } : {}),
            };
          },
        ),
        done,
      )
      .command(
        'watch',
        'print every status change and queue event as it happens (Ctrl-C to stop)',
        leaf(
          (y) => withExitCodes(y).option('queue', { type: 'string', array: true, describe: 'only this queue (repeatable) [default: every queue of the prefix]' }),
          (a) => ({ name: 'watch', queues: queueList(a.queue) }),
        ),
        done,
      )
      .command('flow', 'list, show or cancel flows (chains, groups, chords, DAGs of tasks)', (y) =>
        withExitCodes(y)
          .command(
            'ls',
            'the flows kept, newest first: status, progress (steps done of all), failed and cancelled steps, created, ended',
            leaf(
              (c) =>
                withExitCodes(c)
                  .option('limit', { type: 'number', default: DEFAULT_LIST_LIMIT, describe: `list at most this many (1-${MAX_LIST_LIMIT})` })
                  .option('offset', { type: 'number', default: 0, describe: 'skip this many (the next page: the offset the page before printed)' }),
              (a) => ({ name: 'flow ls', limit: positiveInt('--limit', a.limit, MAX_LIST_LIMIT), offset: wholeAtLeast0('--offset', a.offset) }),
            ),
            done,
          )
          .command(
            'show <id>',
            "a flow's status, progress and reason, and each step: its queue, task id, status, and result or error",
            leaf(
              (c) => withExitCodes(c).positional('id', { type: 'string', demandOption: true, describe: 'flow id' }),
              (a) => ({ name: 'flow show', id: flowIdArg(a.id) }),
            ),
            done,
          )
          .command(
            'cancel <id>',
            "cancel a flow that has not ended: its waiting and queued steps at once, its running steps' workers abort them",
            leaf(
              (c) =>
                withExitCodes(c)
                  .positional('id', { type: 'string', demandOption: true, describe: 'flow id' })
                  .option('wait-ms', { type: 'number', default: 5000, describe: 'how long to wait for its running steps to stop' }),
              (a) => ({ name: 'flow cancel', id: flowIdArg(a.id), waitMs: wholeAtLeast0('--wait-ms', a['wait-ms']) }),
            ),
            done,
          )
          .demandCommand(1, 'name a flow command: ls, show or cancel'),
      )
      .demandCommand(1, 'name a command')
      .epilogue(EXIT_CODES_HELP)
      .wrap(Math.min(120, process.stdout.columns || 100))
      .check((a) => {
        if (/[{}]/.test(a.prefix) || a.prefix === '') throw new Error(`--prefix must be non-empty and have no braces, got ${JSON.stringify(a.prefix)}`);
        return true;
      }),
  ).parseSync();
  if (command === undefined) throw new Error('no command'); // demandCommand makes this unreachable
  return { global: { redis: global.redis, 'log-level': global['log-level'], 'connect-timeout-ms': global['connect-timeout-ms'], json: global.json, prefix: global.prefix }, command };
}
