import 'reflect-metadata';
import { container } from 'tsyringe';
import { hideBin } from 'yargs/helpers';
import { Queue, registerQueue, TOKENS } from '@taskq/queue';
import { Monitor, registerMonitor } from '@taskq/monitor';
import { registerWorkerPool, sleepTask, WorkerPool, type HandlerMap, type WorkerPoolSettings } from '@taskq/worker-pool';
import { createLogger, EXIT, openRedis, positiveInt, registerCore, runMain } from '@taskq/app-kit';
import { parseCount, producerOptions, yargs } from './args';
import { describeSummary, produce, runTag, summaryJson } from './produce';

/**
 * `npm start`: producer, worker pool and Monitor in one process. Without
 * REDIS_URL (or --redis) it runs on an embedded in-memory Redis.
 */
runMain(async () => {
  const args = producerOptions(
    yargs(hideBin(process.argv))
      .scriptName('demo')
      .usage('$0 [count] [options]\n\nThe taskq demo: enqueue COUNT tasks, run them on a pool in this process, follow them live.')
      .option('concurrency', { type: 'string', default: '4', describe: 'sub-workers of the in-process pool' }),
  )
    // the demo's own defaults (see `explicit` and the id prefix below)
    .option('redis', { type: 'string', defaultDescription: '$REDIS_URL, else an embedded in-memory Redis inside this process' })
    .option('id-prefix', { type: 'string', defaultDescription: '"task_" on the embedded Redis, else "task_<run>_" (a fresh run tag, so runs never collide)' })
    .check((a) => positiveInt('--concurrency', a.concurrency) > 0)
    .parseSync();
  // The demo uses the embedded Redis unless a server is named explicitly.
  const explicit = process.argv.some((a) => a === '--redis' || a.startsWith('--redis=')) || process.env['REDIS_URL'];
  const url = explicit ? args.redis : undefined;
  const logger = createLogger({ name: 'demo', level: args['log-level'] });
  const conn = await openRedis({ url, connectTimeoutMs: args['connect-timeout-ms'], logger, name: `taskq-demo-${process.pid}` });
  logger.info(
    { redis: conn.address },
    conn.embedded
      ? 'taskq demo: no REDIS_URL set, running on an embedded in-memory Redis inside this process'
      : `taskq demo: using Redis at ${conn.address}`,
  );

  const c = registerCore(container.createChildContainer(), conn, { queue: args.queue }, logger);
  registerQueue(c);
  registerMonitor(c);
  registerWorkerPool(c);
  c.registerInstance<WorkerPoolSettings>(TOKENS.WorkerPoolOptions, {
    concurrency: positiveInt('--concurrency', args.concurrency),
    // a thread cannot reach the in-memory Redis of this process
    heartbeat: conn.embedded ? 'main' : 'thread',
  });
  c.registerInstance<HandlerMap>(TOKENS.Handlers, { sleep: sleepTask });
  if (args['wait-replicas'] > 0) {
    c.registerInstance(TOKENS.QueueOptions, { waitForReplicas: { replicas: args['wait-replicas'], timeoutMs: args['wait-replicas-timeout-ms'] } });
  }
  const queue = c.resolve(Queue);
  const monitor = c.resolve(Monitor);
  const pool = c.resolve(WorkerPool);

  await pool.start();
  try {
    const summary = await produce(queue, monitor, logger.child({ component: 'producer' }), {
      count: parseCount(args.count),
      minMs: args['min-ms'],
      maxMs: args['max-ms'],
      wait: true,
      timeoutMs: args['timeout-ms'],
      failRate: args['fail-rate'],
      maxAttempts: args['max-attempts'],
      retryDelayMs: args['retry-delay-ms'],
      priority: args.priority,
      idPrefix: args['id-prefix'] ?? (conn.embedded ? 'task_' : `task_${runTag()}_`),
    });
    logger.child({ component: 'producer' }).info({ summary }, describeSummary(summary));
    if (args.json) process.stdout.write(`${summaryJson(summary)}\n`);
    return EXIT.ok;
  } finally {
    await pool.stop(0);
    await monitor.stop();
    await conn.close();
  }
});
