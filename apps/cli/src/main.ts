#!/usr/bin/env node
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { container } from 'tsyringe';
import { hideBin } from 'yargs/helpers';
import { Flows, Queue, registerQueue } from '@taskq/queue';
import { createLogger, onShutdownSignals, openRedis, registerCore, runMain } from '@taskq/app-kit';
import { parseArgs } from './args';
import { CliError } from './cli-error';
import { runCommand, type Context } from './commands';

/** Asks on the terminal; undefined when stdin is not one (nothing to confirm on). */
function ask(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return Promise.resolve(undefined);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
    rl.once('close', () => resolve(''));
  });
}

/** The ops CLI (`taskq`): composition root. */
runMain(async () => {
  const { global, command } = parseArgs(hideBin(process.argv));
  // log lines (the libraries' warnings) go to stderr: stdout is the command's output
  const logger = createLogger({ name: 'taskq', level: global['log-level'], stream: process.stderr });
  const stopRequested = new Promise<string>((resolve) => {
    onShutdownSignals(resolve, () => process.exit(0));
  });
  const conn = await openRedis({
    url: global.redis,
    connectTimeoutMs: global['connect-timeout-ms'],
    logger,
    name: `taskq-cli-${process.pid}`,
  });
  const queues = new Map<string, Queue>();
  let flows: Flows | undefined;
  const ctx: Context = {
    redis: conn.redis,
    prefix: global.prefix,
    json: global.json,
    queue: (name) => {
      let queue = queues.get(name);
      if (queue === undefined) {
        const c = registerQueue(registerCore(container.createChildContainer(), conn, { queue: name, prefix: global.prefix }, logger));
        queue = c.resolve(Queue);
        queues.set(name, queue);
      }
      return queue;
    },
    flows: () => (flows ??= new Flows({ prefix: global.prefix, connection: conn.redis, logger })),
    out: (text) => void process.stdout.write(text),
    note: (text) => void process.stderr.write(text),
    ask,
    stopRequested,
  };
  try {
    return await runCommand(ctx, command);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return err.code;
  } finally {
    await conn.close();
  }
});
