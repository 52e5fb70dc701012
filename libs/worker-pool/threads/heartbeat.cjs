'use strict';
// Heartbeat thread of a worker pool. It runs in its own worker_thread with its
// own Redis connection, so heartbeats keep going while a handler keeps the
// main thread busy (CPU-bound work): the janitor never mistakes a busy worker
// for a dead one. Plain JS so the same file runs from src (tests) and dist.
//
// workerData: { url, connectionName, source, sha, keys, consumerId, intervalMs }
// Posts to the parent: { type: 'beat', alive, cancelRequested: string[] }
//                      { type: 'error', message }
// Stops on the message 'stop'.
const { parentPort, workerData } = require('node:worker_threads');
const Redis = require('ioredis');

const { url, connectionName, source, sha, keys, consumerId, intervalMs } = workerData;
const redis = new Redis(url, {
  connectionName,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(100 * times, 2000),
});
redis.on('error', () => undefined); // reported per beat below

let stopping = false;
let wakeUp = () => undefined;

async function run(register) {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, consumerId, register);
  } catch (err) {
    if (err && String(err.message).startsWith('NOSCRIPT')) {
      return redis.eval(source, keys.length, ...keys, consumerId, register);
    }
    throw err;
  }
}

async function loop() {
  while (!stopping) {
    const started = Date.now();
    try {
      let reply = await run('0');
      const alive = Number(reply[0]) === 1;
      if (!alive) reply = await run('1'); // presumed dead: register again
      parentPort.postMessage({ type: 'beat', alive, cancelRequested: reply.slice(1).map(String) });
    } catch (err) {
      parentPort.postMessage({ type: 'error', message: err && err.message ? err.message : String(err) });
    }
    const wait = Math.max(0, intervalMs - (Date.now() - started));
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, wait);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  wakeUp();
  redis.quit().catch(() => redis.disconnect()).finally(() => process.exit(0));
});

loop();
