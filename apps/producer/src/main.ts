import 'reflect-metadata';
import { container } from 'tsyringe';
import { hideBin } from 'yargs/helpers';
import { Flows, Queue, registerQueue, TOKENS } from '@taskq/queue';
import { Monitor, registerMonitor } from '@taskq/monitor';
import { createLogger, EXIT, onShutdownSignals, openRedis, registerCore, runMain } from '@taskq/app-kit';
import { parseCount, producerOptions, yargs } from './args';
import { describeSummary, produce, runTag, summaryJson } from './produce';
import { describeFlowSummary, produceFlow } from './produce-flow';
import { ProducerInterruptedError } from './producer-interrupted-error';

/** The producer CLI: composition root of a producer process. */
runMain(async () => {
  const args = producerOptions(
    yargs(hideBin(process.argv))
      .scriptName('producer')
      .usage('$0 [count] [options]\n\nEnqueue COUNT "sleep" tasks and follow them with the Monitor until all are final.')
      .option('wait', {
        type: 'boolean',
        default: true,
        describe: 'wait until every task is final (--no-wait: enqueue and exit)',
      }),
  ).parseSync();
  const logger = createLogger({ name: 'producer', level: args['log-level'] });
  const conn = await openRedis({
    url: args.redis,
    connectTimeoutMs: args['connect-timeout-ms'],
    logger,
    name: `taskq-producer-${process.pid}`,
  });
  logger.info({ redis: conn.address, queue: args.queue }, `connected to ${conn.address}`);

  const c = registerMonitor(registerQueue(registerCore(container.createChildContainer(), conn, { queue: args.queue }, logger)));
  if (args['wait-replicas'] > 0) {
    c.registerInstance(TOKENS.QueueOptions, { waitForReplicas: { replicas: args['wait-replicas'], timeoutMs: args['wait-replicas-timeout-ms'] } });
  }
  const queue = c.resolve(Queue);
  const monitor = c.resolve(Monitor);

  try {
    const common = {
      count: parseCount(args.count),
      minMs: args['min-ms'],
      maxMs: args['max-ms'],
      wait: args.wait,
      timeoutMs: args['timeout-ms'],
      failRate: args['fail-rate'],
      maxAttempts: args['max-attempts'],
      retryDelayMs: args['retry-delay-ms'],
      priority: args.priority,
    };
    const log = logger.child({ component: 'producer' });
    if (args.flow) {
      const flowId = args['id-prefix'] === undefined ? `flow_${runTag()}` : `${args['id-prefix']}flow`;
      const summary = await produceFlow(c.resolve(Flows), monitor, log, { ...common, policy: args['flow-policy'], flowId });
      logger.info({ summary }, describeFlowSummary(summary));
      if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      return EXIT.ok;
    }
    // Ctrl-C/SIGTERM: the enqueue stops after the batch being sent, the wait at once, and the
    // producer says what is in the queue (exit 130); a second one exits at once
    const interrupt = new AbortController();
    const removeHandlers = onShutdownSignals(
      (signal) => {
        logger.warn({ signal }, `${signal}: stopping (send again to exit at once)`);
        interrupt.abort(signal);
      },
      (signal) => {
        process.stderr.write(`${signal} again: exiting at once; tasks already enqueued stay in the queue\n`);
        process.exit(EXIT.interrupted);
      },
    );
    try {
      const summary = await produce(queue, monitor, log, { ...common, idPrefix: args['id-prefix'] ?? `task_${runTag()}_`, signal: interrupt.signal });
      logger.info({ summary }, describeSummary(summary));
      if (args.json) process.stdout.write(`${summaryJson(summary)}\n`);
      return EXIT.ok;
    } catch (err) {
      if (!(err instanceof ProducerInterruptedError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return EXIT.interrupted;
    } finally {
      removeHandlers();
    }
  } finally {
    await monitor.stop();
    await conn.close();
  }
});
