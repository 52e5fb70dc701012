import 'reflect-metadata';
import { container } from 'tsyringe';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_MAX_RESULT_BYTES, DEFAULT_RETENTION, TOKENS, queueKeys, readQueueCounts } from '@taskq/queue';
import { parseQueueWeights, registerWorkerPool, sleepTask, spinTask, WorkerPool, type HandlerMap, type WorkerPoolSettings } from '@taskq/worker-pool';
import {
  createLogger,
  EXIT,
  onShutdownSignals,
  openRedis,
  positiveInt,
  registerCore,
  runMain,
  withCommonOptions,
} from '@taskq/app-kit';
import { startMetricsServer, workerMetrics, type MetricsServer } from './metrics';

/** The worker CLI: composition root of a worker process. */
function parseArgs(argv: string[]) {
  return withCommonOptions(
    yargs(argv)
      .scriptName('worker')
      .usage(
        '$0 [concurrency] [options]\n\nServe a taskq queue (or several: --queues) with N concurrent sub-workers. Task types: "sleep" (waits payload.ms, throws on attempts <= payload.failAttempts) and "spin" (keeps the CPU busy for payload.ms).',
      )
      // yargs also reads `--concurrency <n>` into the positional (the Docker image's CMD uses that form)
      .command('$0 [concurrency]', false, (y) =>
        y.positional('concurrency', {
          describe: 'sub-workers in this process; also as --concurrency <n>',
          type: 'string',
          default: '4',
        }),
      )
      .option('grace-ms', { type: 'number', default: 25_000, describe: 'on SIGINT/SIGTERM, time in-flight tasks get to finish' })
      .option('heartbeat-ms', { type: 'number', default: 1000, describe: 'consumer heartbeat interval' })
      .option('stale-after-ms', {
        type: 'number',
        default: 5000,
        describe: "janitor: a consumer silent this long is presumed dead and its tasks go back to the queue",
      })
      .option('retention-max-age-ms', { type: 'number', default: DEFAULT_RETENTION.maxAgeMs, describe: 'forget Done/Cancelled tasks older than this' })
      .option('retention-max-count', { type: 'number', default: DEFAULT_RETENTION.maxCount, describe: 'keep at most this many Done/Cancelled tasks' })
      .option('dead-max', { type: 'number', default: DEFAULT_RETENTION.deadMax, describe: 'cap of the dead-letter list' })
      .option('max-result-bytes', {
        type: 'number',
        default: DEFAULT_MAX_RESULT_BYTES,
        describe: "largest task result stored (a handler's return value as JSON, UTF-8 bytes); a larger one makes the task Failed",
      })
      .option('metrics-port', {
        type: 'number',
        describe: 'serve /metrics (Prometheus), /healthz and /readyz on this port (0: any free port, logged); default: none',
      })
      .option('metrics-host', { type: 'string', default: '0.0.0.0', describe: 'address the metrics server listens on' })
      .option('queues', {
        type: 'string',
        describe:
          'serve several queues, e.g. critical:6,default:3,low:1: a free sub-worker takes from a queue in proportion to its weight, among those with ready tasks (instead of --queue)',
      })
      .option('strict', {
        type: 'boolean',
        describe: 'with --queues: always take from the queue of the highest weight that has ready tasks',
      })
      .option('hand-off', {
        type: 'boolean',
        default: false,
        describe: 'opt-in: take new tasks in the wake message and start them at once, claiming them with the next call (one hop from enqueue to start; see the README\'s Hand-off)',
      }),
  )
    .check((a) => {
      // Given both ways, yargs keeps the positional and drops the flag without a word.
      const flag = concurrencyFlag(argv);
      if (flag !== undefined) positiveInt('--concurrency', flag);
      positiveInt('concurrency', a.concurrency);
      if (flag !== undefined && flag !== String(a.concurrency)) {
        throw new Error(`concurrency given twice: ${JSON.stringify(String(a.concurrency))} and --concurrency ${JSON.stringify(flag)}`);
      }
      if (!Number.isInteger(a['grace-ms']) || a['grace-ms'] < 0) throw new Error(`--grace-ms must be a whole number >= 0`);
      for (const k of ['heartbeat-ms', 'stale-after-ms'] as const) {
        if (!Number.isInteger(a[k]) || a[k] <= 0) throw new Error(`--${k} must be a whole number > 0`);
      }
      if (a['stale-after-ms'] <= a['heartbeat-ms'] * 2) throw new Error('--stale-after-ms must be more than twice --heartbeat-ms');
      for (const k of ['retention-max-age-ms', 'retention-max-count', 'dead-max', 'max-result-bytes'] as const) positiveInt(`--${k}`, a[k]);
      const port = a['metrics-port'];
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new Error('--metrics-port must be a whole number from 0 to 65535');
      if (a.queues !== undefined) {
        if (givenFlag(argv, 'queue')) throw new Error('give --queue or --queues, not both');
        parseQueueWeights(a.queues);
      } else if (a.strict !== undefined) {
        throw new Error('--strict applies to --queues');
      }
      return true;
    })
    .parseSync();
}

/** Whether `--<name>` (or `--<name>=…`) is among the raw arguments. */
function givenFlag(argv: readonly string[], name: string): boolean {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  return args.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
}

/** The value of a `--concurrency <n>` / `--concurrency=<n>` flag in the raw arguments, if there is one. */
function concurrencyFlag(argv: readonly string[]): string | undefined {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg.startsWith('--concurrency=')) return arg.slice('--concurrency='.length);
    if (arg === '--concurrency') return args[i + 1]?.startsWith('-') ? '' : (args[i + 1] ?? '');
  }
  return undefined;
}

runMain(async () => {
  const args = parseArgs(hideBin(process.argv));
  const concurrency = positiveInt('concurrency', args.concurrency);
  const logger = createLogger({ name: 'worker', level: args['log-level'] });
  const conn = await openRedis({
    url: args.redis,
    connectTimeoutMs: args['connect-timeout-ms'],
    logger,
    name: `taskq-worker-${process.pid}`,
  });
  const queues = args.queues === undefined ? undefined : parseQueueWeights(args.queues);
  const queue = queues === undefined ? args.queue : Object.keys(queues)[0];
  logger.info({ redis: conn.address, queue, queues }, `connected to ${conn.address}`);

  const retention = {
    maxAgeMs: args['retention-max-age-ms'],
    maxCount: args['retention-max-count'],
    deadMax: args['dead-max'],
  };
  const c = registerWorkerPool(registerCore(container.createChildContainer(), conn, { queue, retention }, logger));
  c.registerInstance<WorkerPoolSettings>(TOKENS.WorkerPoolOptions, {
    concurrency,
    graceMs: args['grace-ms'],
    heartbeatMs: args['heartbeat-ms'],
    maxResultBytes: args['max-result-bytes'],
    // the pool's defaults: heartbeats from their own thread and connection (a
    // CPU-bound handler cannot starve them) and the janitor in every worker
    janitor: { staleAfterMs: args['stale-after-ms'] },
    queues,
    strict: args.strict,
    handOff: args['hand-off'],
  });
  c.registerInstance<HandlerMap>(TOKENS.Handlers, { sleep: sleepTask, spin: spinTask });

  const pool = c.resolve(WorkerPool);

  const stopped = new Promise<void>((resolve) => {
    onShutdownSignals(
      (signal) => {
        logger.info({ signal }, `${signal}: stopping; in-flight tasks get ${args['grace-ms']} ms (send again to stop now)`);
        resolve();
      },
      (signal) => {
        logger.warn({ signal }, `${signal} again: stopping now; unfinished tasks go back to the queue`);
        void pool.stop(0);
      },
    );
  });

  let metrics: MetricsServer | undefined;
  if (args['metrics-port'] !== undefined) {
    const { registry } = workerMetrics(pool, (q) => readQueueCounts(conn.redis, queueKeys(q)), logger);
    metrics = await startMetricsServer({ port: args['metrics-port'], host: args['metrics-host'], registry, pool, logger });
    logger.info(
      { metricsPort: metrics.port, metricsHost: args['metrics-host'] },
      `metrics on http://${args['metrics-host']}:${metrics.port}/metrics (also /healthz, /readyz)`,
    );
  }

  await pool.start();
  await stopped;
  const result = await pool.stop();
  await metrics?.close();
  await conn.close();
  logger.info(result, `stopped: ${result.finished} task(s) finished during the grace period, ${result.released} put back`);
  return EXIT.ok;
});
