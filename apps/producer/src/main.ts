import 'reflect-metadata';
import { container } from 'tsyringe';
import { hideBin } from 'yargs/helpers';
import { Flows, Queue, registerQueue, TOKENS } from '@taskq/queue';
import { Monitor, registerMonitor } from '@taskq/monitor';
import { createLogger, EXIT, openRedis, registerCore, runMain } from '@taskq/app-kit';
import { parseCount, producerOptions, yargs } from './args';
import { describeSummary, produce, runTag, summaryJson } from './produce';
import { describeFlowSummary, produceFlow } from './produce-flow';

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
    const summary = await produce(queue, monitor, log, { ...common, idPrefix: args['id-prefix'] ?? `task_${runTag()}_` });
    logger.info({ summary }, describeSummary(summary));
    if (args.json) process.stdout.write(`${summaryJson(summary)}\n`);
    return EXIT.ok;
  } finally {
    await monitor.stop();
    await conn.close();
  }
});
