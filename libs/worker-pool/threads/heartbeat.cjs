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
// workerData.relay (a hand-off pool, see src/claim-relay.ts): the shared
//   buffers of the claims the main thread has not sent yet, the slot states
//   it uses (slotStates: pending, thread), idBytes (a slot's id bytes), its
//   sub-worker names, afterMs (a claim pending that long since its handler
//   started is sent from here: the main thread is held), checkMs (how often to look), and
//   per queue { keys, args, sha, source } (Consumer.claimCall). Posts
//   { type: 'claims', answers: [[slot, answer or null (the call failed)], ...] }.
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

/** A script call: EVALSHA, and EVAL when the server does not know the script yet. */
async function evalScript(scriptSha, scriptSource, scriptKeys, args) {
  try {
    return await redis.call('EVALSHA', scriptSha, scriptKeys.length, ...scriptKeys, ...args);
  } catch (err) {
    if (err && String(err.message).startsWith('NOSCRIPT')) {
      return redis.call('EVAL', scriptSource, scriptKeys.length, ...scriptKeys, ...args);
    }
    throw err;
  }
}

function run(queueKeys, register) {
  return evalScript(sha, source, queueKeys, [consumerId, register]);
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

/** Sends the claims the main thread left pending past their linger (see workerData.relay). */
function startRelay(r) {
  const states = new Int32Array(r.states);
  const meta = new Int32Array(r.meta);
  const starts = new Float64Array(r.starts);
  const ids = new Uint8Array(r.ids);
  const decoder = new TextDecoder();
  const { pending: PENDING, thread: THREAD } = r.slotStates;
  let sending = false;
  const timer = setInterval(() => {
    if (sending || stopping) return;
    const now = performance.timeOrigin + performance.now();
    const byLane = new Map();
    for (let slot = 0; slot < r.slots; slot++) {
      if (Atomics.load(states, slot) !== PENDING || now - starts[slot] < r.afterMs) continue;
      // the main thread may take it at this instant: one of the two wins
      if (Atomics.compareExchange(states, slot, PENDING, THREAD) !== PENDING) continue;
      const lane = meta[3 * slot];
      // slice: a copy the decoder takes (it refuses shared memory)
      const id = decoder.decode(ids.slice(slot * r.idBytes, slot * r.idBytes + meta[3 * slot + 1]));
      const claim = { slot, id, worker: r.workers[meta[3 * slot + 2]], ageMs: Math.max(0, Math.round(now - starts[slot])) };
      if (!byLane.has(lane)) byLane.set(lane, []);
      byLane.get(lane).push(claim);
    }
    if (byLane.size === 0) return;
    sending = true;
    Promise.all([...byLane].map(([lane, claims]) => relayCall(r.lanes[lane], claims)))
      .then((lists) => parentPort.postMessage({ type: 'claims', answers: lists.flat() }))
      .finally(() => {
        sending = false;
      });
  }, r.checkMs);
  timer.unref();
}

/** One queue's claims in one fetch call ('0hr': claims only, the listing left alone); [slot, answer] each, answer null when the call failed. */
async function relayCall(lane, claims) {
  const args = [...lane.args, String(claims.length)];
  for (const c of claims) args.push(c.id, c.worker, String(c.ageMs));
  try {
    const reply = await evalScript(lane.sha, lane.source, lane.keys, args);
    // -1: the consumer is not registered (the main thread's next call registers it again)
    if (!Array.isArray(reply)) return claims.map((c) => [c.slot, null]);
    return claims.map((c, i) => [c.slot, reply[2 + i] == null ? '' : String(reply[2 + i])]);
  } catch {
    return claims.map((c) => [c.slot, null]);
  }
}

if (workerData.relay) startRelay(workerData.relay);

parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  wakeUp();
  redis.quit().catch(() => redis.disconnect()).finally(() => process.exit(0));
});

loop();
