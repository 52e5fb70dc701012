'use strict';
// A process that runs nothing but a Janitor with the library's defaults (a
// pass every second, a consumer silent for 5 s presumed dead), from the built
// @taskq/queue as a user installs it. Prints one JSON line per log call and
// `janitor started` once running. argv: <redis url> <queue>
const { Janitor } = require('@taskq/queue');

const [url, queue] = process.argv.slice(2);
const line = (level) => (obj, msg) => {
  const fields = typeof obj === 'string' ? { msg: obj } : { ...obj, msg };
  process.stdout.write(`${JSON.stringify({ level, ...fields })}\n`);
};
const logger = { error: line('error'), warn: line('warn'), info: line('info'), debug: () => undefined };
logger.child = () => logger;

const janitor = new Janitor({ queue, connection: url, logger });
janitor.start();
// the janitor's timer does not hold a process open (it lives inside workers): this one must stay up
const keepAlive = setInterval(() => undefined, 60_000);
process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'janitor started' })}\n`);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  janitor.stop().then(() => process.exit(0));
});
