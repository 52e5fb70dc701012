import type { Argv } from 'yargs';
import { assertValidRedisUrl, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REDIS_URL, RedisConnectionError, DEFAULT_QUEUE } from '@taskq/queue';
import { LOG_LEVELS, type LogLevel } from './logger';

/** Exit codes of the taskq CLIs. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

// Typed, not asserted: yargs infers the option's type from its default.
const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Options every taskq CLI takes: how to reach Redis, and logging. */
export interface ConnectionArgs {
  redis: string;
  'log-level': LogLevel;
  'connect-timeout-ms': number;
}

/** Options both apps take: the connection's, and the queue. */
export interface CommonArgs extends ConnectionArgs {
  queue: string;
}

/**
 * Adds the options the apps share and makes the parser strict: an unknown
 * flag or a failed check prints the usage and the error to stderr and exits 2.
 * `queue: false` leaves `--queue` out (an app that serves every queue).
 */
export function withCommonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return withConnectionOptions(y)
    .option('queue', { type: 'string', describe: 'queue name', default: DEFAULT_QUEUE })
    .check((argv) => {
      if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(argv.queue)) throw new Error(`--queue: invalid queue name ${JSON.stringify(argv.queue)}`);
      return true;
    });
}

/**
 * withCommonOptions without `--queue`, for a CLI whose commands name their
 * queues themselves (the ops CLI): `--redis`, `--log-level`,
 * `--connect-timeout-ms`, strict parsing, usage and the error on stderr and
 * exit 2 on a failure, `--help`/`-h`, no `--version`.
 */
export function withConnectionOptions<T>(y: Argv<T>): Argv<T & ConnectionArgs> {
  return y
    .option('redis', {
      type: 'string',
      describe: 'Redis URL: redis://, rediss://, redis+cluster://h:p,h:p or redis+sentinel://h:p,h:p/<master> (password redacted in logs)',
      default: process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL,
      defaultDescription: '$REDIS_URL, else redis://127.0.0.1:6379',
    })
    .option('log-level', { choices: LOG_LEVELS, describe: 'minimum log level', default: DEFAULT_LOG_LEVEL })
    .option('connect-timeout-ms', {
      type: 'number',
      describe: 'give up connecting to Redis after this many ms',
      default: DEFAULT_CONNECT_TIMEOUT_MS,
    })
    .check((argv) => {
      const t = argv['connect-timeout-ms'];
      if (!Number.isInteger(t) || t <= 0) throw new Error(`--connect-timeout-ms must be a whole number > 0, got ${t}`);
      // before anything may print it: a bad port made Node print the whole URL, password included
      assertValidRedisUrl(argv.redis);
      return true;
    })
    .strict()
    .fail((msg, err, parser) => {
      parser.showHelp((s: string) => process.stderr.write(`${s}\n\n`));
      process.stderr.write(`${msg ?? err?.message ?? 'invalid arguments'}\n`);
      process.exit(EXIT.usage);
    })
    .help()
    .alias('help', 'h')
    .version(false);
}

/** Invalid arguments of a tool whose parser throws instead of exiting (bench, chaos); its main prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Makes the parser strict and turns every failure (unknown flag, bad value,
 * failed check) into a thrown UsageError; adds --help/-h and no --version.
 */
export function throwingUsage<T>(y: Argv<T>): Argv<T> {
  return y
    .strict()
    .fail((msg, err) => {
      throw err instanceof UsageError ? err : new UsageError(msg ?? err?.message ?? 'invalid arguments');
    })
    .help()
    .alias('help', 'h')
    .version(false);
}

/**
 * Parses a positive whole number from a CLI value, or explains why not. A
 * string must be decimal digits only: `1e1`, `0x10`, `1_000`, ` 5` or `+5`
 * are refused, not read as 10, 16, ... (JavaScript's Number() would take
 * most of them). A number (an option yargs parsed) must be a whole number.
 * `max` (default Number.MAX_SAFE_INTEGER, beyond which whole numbers are
 * not exact) bounds it.
 */
export function positiveInt(name: string, value: unknown, max: number = Number.MAX_SAFE_INTEGER): number {
  const rule = `${name} must be a whole number >= 1, got ${JSON.stringify(value)}`;
  if (typeof value === 'string' && !/^\d+$/.test(value) && Number.isInteger(Number(value)) && Number(value) >= 1) {
    throw new Error(`${rule}: write it in decimal digits (0-9) only`);
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new Error(rule);
  if (n > max) throw new Error(`${name} must be at most ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Runs an app's main: a RedisConnectionError or other failure is printed as
 * one line on stderr (no stack trace unless LOG_LEVEL=debug) and exits 1.
 */
export function runMain(main: () => Promise<number | void>): void {
  // `… | head` closes the pipe early: that is the reader's choice, not a failure
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  main().then(
    (code) => {
      process.exitCode = code ?? EXIT.ok;
    },
    (err: unknown) => {
      const msg = err instanceof RedisConnectionError ? `error: ${err.message}` : `error: ${err instanceof Error ? err.message : String(err)}`;
      process.stderr.write(`${msg}\n`);
      if (process.env['TASKQ_DEBUG']) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
      process.exit(EXIT.failure);
    },
  );
}

/**
 * First SIGINT/SIGTERM: `graceful()`. A second one: `forced()`. Returns a
 * function that removes the handlers.
 */
export function onShutdownSignals(graceful: (signal: string) => void, forced: (signal: string) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) graceful(signal);
    else forced(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
