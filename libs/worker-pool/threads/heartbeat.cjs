'use strict';
// Heartbeat thread of a worker pool. It runs in its own worker_thread with its
// own Redis connection, so heartbeats keep going while a handler keeps the
// main thread busy (CPU-bound work): the janitor never mistakes a busy worker
// for a dead one. Plain JS so the same file runs from src (tests) and dist.
//
// workerData: { url, options or cluster (seeds and credentials of a Redis Cluster), connectionName, source, sha, keys, consumerId, intervalMs }
//   url: a redis:// or rediss:// URL; options: ioredis options without functions
//   (a standalone server, or sentinels)
//   keys: the heartbeat script's KEYS of each queue the pool serves (an array
//   of arrays): a beat is one script call per queue, sent together (one
//   round trip; on a Cluster, each to the node of its queue)
// Posts to the parent, per beat: { type: 'beat', beats } where beats[i] is
//   { alive, epoch, cancelRequested: string[] } for queue i, or null when
//   that queue's call failed; and { type: 'error', message } when a call failed
// Stops on the message 'stop'.
const { parentPort, workerData } = require('node:worker_threads');
const { RespClient, parseRedisUrl } = require('./resp-client.cjs');

const { url, options, cluster: clusterTarget, connectionName, source, sha, keys, consumerId, intervalMs } = workerData;

/** RespClient options for ioredis options it covers: host/port (TCP, no TLS settings), user, password, db. */
function plainOptions(o) {
  if (!o || o.sentinels || o.path || o.tls || o.family) return undefined;
  return { host: o.host || '127.0.0.1', port: o.port || 6379, tls: false, username: o.username || '', password: o.password || '', db: o.db || 0 };
}

// The small client of resp-client.cjs for plain redis:// and rediss:// URLs
// and plain host/port options; ioredis (about 100 ms of CPU to load in this
// thread) for any other.
function connect() {
  const Redis = () => require('ioredis');
  if (clusterTarget !== undefined) {
    // a Redis Cluster: its seeds and credentials as the main thread has them (a redis+cluster:// URL, or a Cluster client)
    const { seeds, username, password, tls } = clusterTarget;
    const cluster = new (Redis().Cluster)(seeds, {
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      redisOptions: { connectionName, maxRetriesPerRequest: 1, username, password, ...(tls ? { tls: {} } : {}) },
    });
    cluster.on('error', () => undefined); // reported per beat below
    return cluster;
  }
  const plain = url !== undefined ? parseRedisUrl(url) : plainOptions(options);
  // a beat not answered within two intervals drops the connection; the next beat connects again
  if (plain) return new RespClient(plain, connectionName, Math.max(2 * intervalMs, 2000));
  const own = {
    connectionName,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    // a master found through Sentinel: follow a failover at once, and leave an old master made a
    // replica (its beats answered READONLY) for the new one; the next beat goes there
    ...(options && options.sentinels ? { failoverDetector: true, reconnectOnError: (err) => (String(err.message).startsWith('READONLY') ? 1 : false) } : {}),
  };
  const Client = Redis();
  const redis = url !== undefined ? new Client(url, own) : new Client({ ...options, ...own });
  redis.on('error', () => undefined); // reported per beat below
  // ioredis leaves the failoverDetector's sentinel connections open after quit()
  if (own.failoverDetector) redis.on('end', () => redis.connector && redis.connector.disconnect());
  return redis;
}
const redis = connect();

let stopping = false;
let wakeUp = () => undefined;

async function run(queueKeys, register) {
  try {
    return await redis.call('EVALSHA', sha, queueKeys.length, ...queueKeys, consumerId, register);
  } catch (err) {
    if (err && String(err.message).startsWith('NOSCRIPT')) {
      return redis.call('EVAL', source, queueKeys.length, ...queueKeys, consumerId, register);
    }
    throw err;
  }
}

/** One queue's beat: registers again when the janitor had presumed this consumer dead. */
async function beat(queueKeys) {
  let reply = await run(queueKeys, '0');
  const alive = Number(reply[0]) === 1;
  if (!alive) reply = await run(queueKeys, '1');
  return { alive, epoch: reply[1] == null ? undefined : String(reply[1]), cancelRequested: reply.slice(2).map(String) };
}

async function loop() {
  while (!stopping) {
    const started = Date.now();
    const settled = await Promise.allSettled(keys.map(beat));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      const err = failed.reason;
      parentPort.postMessage({ type: 'error', message: err && err.message ? err.message : String(err) });
    }
    if (settled.some((s) => s.status === 'fulfilled')) {
      parentPort.postMessage({ type: 'beat', beats: settled.map((s) => (s.status === 'fulfilled' ? s.value : null)) });
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
