'use strict';
// A worker process for limits.test.ts: a WorkerPool of the built
// @taskq/worker-pool (as a user installs it) whose handlers measure, on the
// test's Redis and across every process, how many tasks of their type run at
// once (the most in `it:{<queue>}:max:<type>`) and when each one starts and
// ends (Redis time, ms, in the lists `it:{<queue>}:starts:<type>` and
// `…:ends:<type>`). Payload: { ms } runs that long; { gate: true } waits
// until the test pushes to `it:{<queue>}:gate`. Prints `ready` once its pool
// runs; SIGTERM stops it. argv: <redis url> <queue> <sub-workers>
const { Cluster, Redis } = require('ioredis');
const { WorkerPool } = require('@taskq/worker-pool');

const [url, queue, concurrency] = process.argv.slice(2);
const key = (what, type) => `it:{${queue}}:${what}:${type}`;
// a redis+cluster:// URL (the test run on a cluster) names every node: a Cluster client, else one server's
const clusterNodes = /^redis\+cluster:\/\/(.+)$/.exec(url)?.[1];
const redis = clusterNodes
  ? new Cluster(clusterNodes.split(',').map((node) => ({ host: node.slice(0, node.lastIndexOf(':')), port: Number(node.slice(node.lastIndexOf(':') + 1)) })))
  : new Redis(url);

// one script each: the count and its maximum move together, and the time is Redis's (one clock for all processes)
const START = `local n = redis.call('INCR', KEYS[1])
if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
local t = redis.call('TIME')
redis.call('RPUSH', KEYS[3], t[1] * 1000 + math.floor(t[2] / 1000))
return n`;
const END = `redis.call('DECR', KEYS[1])
local t = redis.call('TIME')
redis.call('RPUSH', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000))
return 1`;

async function handle(task) {
  const type = task.type;
  await redis.eval(START, 3, key('running', type), key('max', type), key('starts', type));
  try {
    const payload = task.payload || {};
    if (payload.gate) {
      const blocking = redis.duplicate();
      try {
        await blocking.blpop(`it:{${queue}}:gate`, 60);
      } finally {
        blocking.disconnect();
      }
    } else if (payload.ms) {
      await new Promise((resolve) => setTimeout(resolve, payload.ms));
    }
  } finally {
    await redis.eval(END, 2, key('running', type), key('ends', type));
  }
}

const pool = new WorkerPool({
  queue,
  connection: url,
  concurrency: Number(concurrency),
  handlers: { capped: handle, free: handle, rated: handle, held: handle },
  // warnings and errors to stderr (the test shows them when it fails), nothing else
  logger: {
    error: (obj, msg) => process.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
    warn: (obj, msg) => process.stderr.write(`warn: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
    info: () => undefined,
    debug: () => undefined,
    child() {
      return this;
    },
  },
});
pool.start().then(
  () => process.stdout.write('ready\n'),
  (err) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  pool.stop().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
